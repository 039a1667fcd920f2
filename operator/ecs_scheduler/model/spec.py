"""The spec of a ScheduledEcsJob: the single source of truth for the CRD schema.

Every field carries a description because the CRD is generated from this module and
`kubectl explain scheduledecsjob.spec` is how users learn the API.
"""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, ValidationInfo, field_validator, model_validator

from ecs_scheduler.model import limits
from ecs_scheduler.model.base import ApiModel
from ecs_scheduler.model.limits import (
    INT32_MAX,
    Arg,
    ContainerName,
    EnvName,
    EnvValue,
    Region,
    RoleArn,
    ShortText,
    TagKey,
    TagValue,
    TaskSize,
)
from ecs_scheduler.model.notify import MAX_TARGETS, NotificationTarget

MAX_TASKS_PER_FIRE = 50
"""The hard cap on tasks started by one fire, inherited from the classic ECS Scheduler."""

NonEmpty = Annotated[str, StringConstraints(min_length=1, max_length=limits.SHORT_CHARS)]
Args = Annotated[list[Arg], Field(max_length=limits.MAX_ARGS)]
Environment = Annotated[dict[EnvName, EnvValue], Field(max_length=limits.MAX_ENV_VARS)]


class ContainerOverride(ApiModel):
    """Changes to one container of the task definition for the tasks this job starts."""

    name: ContainerName = Field(description="Name of the container in the task definition.")
    environment: Environment = Field(
        default_factory=dict, description="Environment variables to set or replace in the container."
    )
    command: Args | None = Field(default=None, description="Command that replaces the image's command.")
    cpu: int | None = Field(
        default=None, ge=0, le=INT32_MAX, description="CPU units reserved for the container."
    )
    memory: int | None = Field(
        default=None, ge=0, le=INT32_MAX, description="Hard memory limit of the container, in MiB."
    )


class Overrides(ApiModel):
    """ECS task overrides applied to every task this job starts."""

    container_overrides: list[ContainerOverride] = Field(
        default_factory=list, max_length=10, description="Per-container overrides (a task has at most 10)."
    )
    cpu: TaskSize | None = Field(default=None, description="Task-level CPU (for example '256' or '1 vCPU').")
    memory: TaskSize | None = Field(
        default=None, description="Task-level memory (for example '512' or '1 GB')."
    )
    task_role_arn: RoleArn | None = Field(
        default=None, description="IAM role the task's containers assume instead of the task definition's."
    )
    execution_role_arn: RoleArn | None = Field(
        default=None, description="IAM role ECS uses to pull images and write logs for the task."
    )


class CapacityProviderStrategyItem(ApiModel):
    """One capacity provider and its share of the tasks."""

    capacity_provider: NonEmpty = Field(
        description="Name of the capacity provider (for example FARGATE_SPOT)."
    )
    weight: int | None = Field(default=None, ge=0, le=1000, description="Relative share of tasks.")
    base: int | None = Field(
        default=None, ge=0, le=100000, description="Tasks placed here before weights apply."
    )


class AwsVpcConfiguration(ApiModel):
    """Subnets and security groups for tasks that use the awsvpc network mode."""

    subnets: list[NonEmpty] = Field(min_length=1, max_length=16, description="Subnet IDs for the task's ENI.")
    security_groups: list[NonEmpty] = Field(
        default_factory=list, max_length=5, description="Security group IDs for the task's ENI."
    )
    assign_public_ip: Literal["ENABLED", "DISABLED"] | None = Field(
        default=None, description="Whether the task's ENI gets a public IP address."
    )


class NetworkConfiguration(ApiModel):
    """Network settings of the task, as in ECS RunTask."""

    awsvpc_configuration: AwsVpcConfiguration = Field(description="The awsvpc settings.")


class PlacementConstraint(ApiModel):
    """A rule that limits which container instances can run the task (EC2 only)."""

    type: Literal["distinctInstance", "memberOf"] = Field(description="Kind of constraint.")
    expression: str | None = Field(
        default=None,
        max_length=2000,
        description="Cluster query language expression, for memberOf constraints.",
    )


class PlacementStrategy(ApiModel):
    """How ECS spreads or packs the tasks across container instances (EC2 only)."""

    type: Literal["random", "spread", "binpack"] = Field(description="Kind of strategy.")
    field: ShortText | None = Field(
        default=None, description="Field the strategy applies to (for example 'memory')."
    )


class RuntimePlatform(ApiModel):
    """The CPU architecture and operating system the task needs (Fargate and EC2)."""

    cpu_architecture: Literal["X86_64", "ARM64"] | None = Field(default=None, description="X86_64 or ARM64.")
    operating_system_family: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9_]{1,64}$")] | None = Field(
        default=None,
        description="LINUX (default) or a WINDOWS_SERVER_* family, as ECS names them (checked against "
        "ECS's own list when the job is read).",
    )


class ContainerSpec(ApiModel):
    """A container to run, for which the operator registers and maintains the task definition
    (family ecs-scheduler_<namespace>_<name>, one revision per distinct container spec)."""

    image: Annotated[str, StringConstraints(pattern=limits.IMAGE_REFERENCE)] = Field(
        description="Container image (repository[:tag] or repository@digest).", max_length=limits.IMAGE_CHARS
    )
    name: ContainerName = Field(
        default="main", description="Container name (what overrides.containerOverrides[].name refers to)."
    )
    command: Args | None = Field(default=None, description="Command that replaces the image's command.")
    entry_point: Args | None = Field(default=None, description="Entry point that replaces the image's.")
    environment: Environment = Field(default_factory=dict, description="Environment variables.")
    secrets: dict[EnvName, Annotated[str, StringConstraints(min_length=1, max_length=limits.ARN_CHARS)]] = (
        Field(
            default_factory=dict,
            max_length=limits.MAX_ENV_VARS,
            description=(
                "Environment variables read from AWS at task start: name -> ARN of an SSM parameter or a "
                "Secrets Manager secret. Needs executionRoleArn."
            ),
        )
    )
    cpu: int | None = Field(
        default=None, ge=0, le=INT32_MAX, description="CPU units reserved for the container."
    )
    memory: int | None = Field(
        default=None,
        ge=4,
        le=INT32_MAX,
        description="Hard memory limit of the container, in MiB (or set taskMemory).",
    )
    log_group: Annotated[str, StringConstraints(pattern=limits.LOG_GROUP)] | None = Field(
        default=None,
        description="CloudWatch Logs group for the container's output (awslogs driver, stream prefix: the job's name).",
    )
    execution_role_arn: RoleArn | None = Field(
        default=None, description="IAM role ECS uses to pull the image, read secrets and write logs."
    )
    task_role_arn: RoleArn | None = Field(default=None, description="IAM role the container's code runs as.")
    network_mode: Literal["bridge", "host", "awsvpc", "none"] | None = Field(
        default=None, description="Task network mode; Fargate requires awsvpc (the default there)."
    )
    requires_compatibilities: list[Literal["EC2", "FARGATE", "EXTERNAL"]] | None = Field(
        default=None,
        max_length=3,
        description="Launch types the definition must be valid for (FARGATE for Fargate).",
    )
    task_cpu: TaskSize | None = Field(
        default=None, description="Task-level CPU ('256', '1 vCPU'); required for Fargate."
    )
    task_memory: TaskSize | None = Field(
        default=None, description="Task-level memory ('512', '1 GB'); required for Fargate."
    )
    ephemeral_storage_gib: int | None = Field(
        default=None, ge=21, le=200, description="Fargate ephemeral storage in GiB (21-200; 20 without it)."
    )
    runtime_platform: RuntimePlatform | None = Field(default=None, description="CPU architecture and OS.")

    @property
    def fargate(self) -> bool:
        return "FARGATE" in (self.requires_compatibilities or [])

    @model_validator(mode="after")
    def _check_task_settings(self) -> "ContainerSpec":
        if self.fargate:
            if self.network_mode not in (None, "awsvpc"):
                raise ValueError("FARGATE requires networkMode awsvpc")
            if self.task_cpu is None or self.task_memory is None:
                raise ValueError("FARGATE requires taskCpu and taskMemory")
        if self.memory is None and self.task_memory is None:
            raise ValueError("memory or taskMemory must be set")
        if self.secrets and self.execution_role_arn is None:
            raise ValueError("secrets need executionRoleArn (ECS reads them with it)")
        return self


class SqsTrigger(ApiModel):
    """Start tasks in proportion to an SQS queue's backlog, checked on the schedule."""

    type: Literal["sqs"] = Field(description="Kind of trigger; sqs is the one supported today.")
    queue_name: Annotated[str, StringConstraints(pattern=limits.QUEUE_NAME)] | None = Field(
        default=None,
        description="Name of the queue (resolved to its URL once). Exactly one of queueName, queueUrl.",
    )
    queue_url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s]+$")] | None = Field(
        default=None,
        max_length=limits.URL_CHARS,
        description="URL of the queue. Exactly one of queueName, queueUrl.",
    )
    region: Region | None = Field(
        default=None, description="Region of the queue. Defaults to the job's region."
    )
    messages_per_task: int = Field(
        ge=1, le=INT32_MAX, description="Messages one task is expected to process."
    )
    activation_queue_length: int = Field(
        default=0, ge=0, le=INT32_MAX, description="No task starts while the queue depth is at or below this."
    )
    scale_on_in_flight: bool = Field(
        default=False, description="Count messages in flight (ApproximateNumberOfMessagesNotVisible) too."
    )
    scale_on_delayed: bool = Field(
        default=False, description="Count delayed messages (ApproximateNumberOfMessagesDelayed) too."
    )
    strategy: Literal["Default", "Accurate"] = Field(
        default="Default",
        description="Accurate subtracts this job's tasks that are still PENDING or RUNNING from the tasks to start.",
    )

    @model_validator(mode="after")
    def _one_queue(self) -> "SqsTrigger":
        if (self.queue_name is None) == (self.queue_url is None):
            raise ValueError("exactly one of queueName and queueUrl must be set")
        return self


DEFAULT_RETRY_ON = ("RESOURCE:*", "AGENT", "SpotInterruption", "TaskFailedToStart")


class RetryPolicy(ApiModel):
    """Run a failed run's failed tasks again, a bounded number of times."""

    max_attempts: int = Field(
        default=3, ge=1, le=10, description="Attempts per run, the first included (1: never retry)."
    )
    backoff_seconds: int = Field(
        default=30,
        ge=0,
        le=3600,
        description="Wait before the first retry; each further retry waits twice as long (at most 1 hour).",
    )
    retry_on: list[Annotated[str, StringConstraints(min_length=1, max_length=128)]] = Field(
        default_factory=lambda: list(DEFAULT_RETRY_ON),
        min_length=1,
        max_length=20,
        description=(
            "Failures that are retried: RunTask failure reasons or API error codes (RESOURCE:MEMORY, AGENT, "
            "ThrottlingException) and task stop codes (SpotInterruption, TaskFailedToStart, "
            "EssentialContainerExited for non-zero exits). '*' matches any text."
        ),
    )


ScheduleSyntax = Literal["Cron", "EcsScheduler"]
ConcurrencyPolicy = Literal["Allow", "Forbid", "Replace"]
LaunchType = Literal["EC2", "FARGATE", "EXTERNAL"]


class ScheduledEcsJobSpec(ApiModel):
    """What to run on ECS, and when."""

    task_definition: Annotated[str, StringConstraints(pattern=limits.TASK_DEFINITION)] | None = Field(
        default=None,
        description="Task definition to run: family, family:revision or full ARN. Exactly one of taskDefinition, container.",
        max_length=limits.ARN_CHARS,
    )
    container: ContainerSpec | None = Field(
        default=None,
        description=(
            "A container to run instead of a task definition: the operator registers its task definition "
            "(status.taskDefinitionArn). Exactly one of taskDefinition, container."
        ),
    )
    role_arn: RoleArn | None = Field(
        default=None,
        description=(
            "IAM role the operator assumes for everything this job does in AWS (ECS, the SQS trigger): "
            "for clusters in another account. Defaults to the namespace's defaultRoleArn in the tenant policy."
        ),
    )
    cluster: Annotated[str, StringConstraints(pattern=limits.CLUSTER)] | None = Field(
        default=None,
        max_length=limits.ARN_CHARS,
        description="ECS cluster name or ARN. Defaults to the operator's configured cluster.",
    )
    region: Region | None = Field(
        default=None, description="AWS region of the cluster. Defaults to the operator's configured region."
    )
    schedule: NonEmpty = Field(
        description=(
            "When to run. With scheduleSyntax Cron: a 5-field cron expression (minute hour day-of-month "
            "month day-of-week; ranges, steps, lists, names and H for a stable per-job value), a macro "
            "(@yearly @monthly @weekly @daily @hourly), '@every <duration>', 'rate(<n> minutes|hours|days)' "
            "or 'at(<RFC3339 instant>)' for a single run. With scheduleSyntax EcsScheduler: the classic "
            "'second minute hour day_of_week week day month year' with APScheduler semantics."
        ),
        max_length=256,
    )
    schedule_syntax: ScheduleSyntax = Field(
        default="Cron", description="How to read schedule: Cron (default) or EcsScheduler (classic syntax)."
    )
    time_zone: Annotated[str, StringConstraints(pattern=limits.TIME_ZONE)] = Field(
        default="UTC",
        max_length=limits.TIME_ZONE_CHARS,
        description="IANA time zone the schedule is evaluated in (for example Europe/Paris).",
    )
    schedule_start: datetime | None = Field(
        default=None, description="No run is scheduled before this instant (RFC 3339)."
    )
    schedule_end: datetime | None = Field(
        default=None, description="No run is scheduled after this instant (RFC 3339)."
    )
    suspended: bool = Field(
        default=False,
        description=(
            "When true, no scheduled run starts until it is set back to false. A run asked for "
            "explicitly (the run-now annotation) still starts, as `kubectl create job --from` runs "
            "a suspended CronJob."
        ),
    )
    task_count: int = Field(
        default=1,
        ge=1,
        le=MAX_TASKS_PER_FIRE,
        description="Tasks started by each run (the minimum per fire).",
    )
    max_count: int | None = Field(
        default=None,
        ge=1,
        le=MAX_TASKS_PER_FIRE,
        description="Most tasks one run may start (at most 50, at least taskCount). Defaults to 50.",
    )
    trigger: SqsTrigger | None = Field(
        default=None,
        description="Start tasks by queue depth. With a trigger, schedule says how often the queue is checked.",
    )
    overrides: Overrides | None = Field(default=None, description="ECS overrides for every task started.")
    concurrency_policy: ConcurrencyPolicy = Field(
        default="Allow",
        description=(
            "What a fire does while an earlier run still has tasks running: Allow starts another run, "
            "Forbid skips this fire, Replace stops the running tasks and then starts the new run."
        ),
    )
    starting_deadline_seconds: int | None = Field(
        default=None,
        ge=1,
        le=limits.MAX_DEADLINE_SECONDS,
        description=(
            "A run that cannot start within this many seconds of its instant (operator down, stalled) is "
            "missed, not started late. Of several missed instants only the most recent is ever started."
        ),
    )
    retry_policy: RetryPolicy | None = Field(
        default=None, description="Retry failed runs. Without it a failed run is recorded and not retried."
    )
    successful_runs_history_limit: int = Field(
        default=3, ge=0, le=50, description="Successful runs kept in status.history."
    )
    failed_runs_history_limit: int = Field(
        default=1,
        ge=0,
        le=50,
        description="Runs kept in status.history that did not succeed (failed, unknown, skipped, replaced).",
    )
    launch_type: LaunchType | None = Field(
        default=None,
        description="EC2, FARGATE or EXTERNAL. Mutually exclusive with capacityProviderStrategy.",
    )
    capacity_provider_strategy: list[CapacityProviderStrategyItem] | None = Field(
        default=None, max_length=20, description="Capacity providers to run on. Excludes launchType."
    )
    network_configuration: NetworkConfiguration | None = Field(
        default=None, description="Network settings, required by task definitions using awsvpc."
    )
    placement_constraints: list[PlacementConstraint] | None = Field(
        default=None, max_length=10, description="Placement constraints (EC2 only)."
    )
    placement_strategy: list[PlacementStrategy] | None = Field(
        default=None, max_length=5, description="Placement strategies (EC2 only)."
    )
    platform_version: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9.]{1,32}$")] | None = Field(
        default=None, description="Fargate platform version (for example LATEST or 1.4.0)."
    )
    propagate_tags: Literal["TASK_DEFINITION", "NONE"] | None = Field(
        default=None, description="Copy tags from the task definition to the tasks."
    )
    enable_ecs_managed_tags: bool | None = Field(
        default=None, alias="enableECSManagedTags", description="Let ECS add its managed tags to the tasks."
    )
    enable_execute_command: bool | None = Field(
        default=None, description="Allow ECS Exec into the tasks' containers."
    )
    group: Annotated[str, StringConstraints(pattern=limits.PRINTABLE)] | None = Field(
        default=None, max_length=limits.SHORT_CHARS, description="Task group name shown by ECS."
    )
    tags: dict[TagKey, TagValue] = Field(
        default_factory=dict,
        max_length=limits.MAX_USER_TAGS,
        description=(
            "Tags added to every task, besides the two naming this job (ECS allows 50 in all; keys "
            "up to 128 characters, not starting with aws:, values up to 256)."
        ),
    )
    notifications: list[NotificationTarget] = Field(
        default_factory=list,
        max_length=MAX_TARGETS,
        description="Where to send a CloudEvent when a run ends (SNS, SQS, HTTPS webhook), per outcome.",
    )

    @model_validator(mode="after")
    def _check_combinations(self) -> "ScheduledEcsJobSpec":
        if (self.task_definition is None) == (self.container is None):
            raise ValueError("exactly one of taskDefinition and container must be set")
        if self.launch_type is not None and self.capacity_provider_strategy is not None:
            raise ValueError("launchType and capacityProviderStrategy are mutually exclusive")
        if self.max_count is not None and self.max_count < self.task_count:
            raise ValueError("maxCount must be greater than or equal to taskCount")
        return self

    @field_validator("schedule_start", "schedule_end")
    @classmethod
    def _within_calendar(cls, value: datetime | None) -> datetime | None:
        if value is not None and not limits.FIRST_YEAR <= value.year < limits.LAST_YEAR:
            raise ValueError(f"must be in the years {limits.FIRST_YEAR}-{limits.LAST_YEAR - 1}")
        if value is not None and value.tzinfo is None:
            raise ValueError("must carry a time zone offset (RFC 3339), for example 2026-01-01T00:00:00Z")
        return value

    @field_validator("schedule_end")
    @classmethod
    def _after_start(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        start = info.data.get("schedule_start")
        if value is not None and start is not None and value <= start:
            raise ValueError("scheduleEnd must be after scheduleStart")
        return value

    @field_validator("tags")
    @classmethod
    def _no_reserved_tags(cls, tags: dict[str, str]) -> dict[str, str]:
        for key in tags:
            if key.lower().startswith(limits.RESERVED_TAG_PREFIX):
                raise ValueError(f"tag key {key!r}: the prefix aws: is reserved for AWS")
        return tags

    @property
    def effective_max_count(self) -> int:
        return self.max_count if self.max_count is not None else MAX_TASKS_PER_FIRE


TRIGGER_CEL_RULES = (
    {
        "rule": "has(self.queueName) != has(self.queueUrl)",
        "message": "exactly one of queueName and queueUrl must be set",
    },
)

CONTAINER_CEL_RULES = (
    {
        "rule": "!has(self.requiresCompatibilities) || !('FARGATE' in self.requiresCompatibilities) || "
        "(has(self.taskCpu) && has(self.taskMemory))",
        "message": "FARGATE requires taskCpu and taskMemory",
    },
    {
        "rule": "!has(self.requiresCompatibilities) || !('FARGATE' in self.requiresCompatibilities) || "
        "!has(self.networkMode) || self.networkMode == 'awsvpc'",
        "message": "FARGATE requires networkMode awsvpc",
        "fieldPath": ".networkMode",
    },
    {"rule": "has(self.memory) || has(self.taskMemory)", "message": "memory or taskMemory must be set"},
    {
        "rule": "!has(self.secrets) || size(self.secrets) == 0 || has(self.executionRoleArn)",
        "message": "secrets need executionRoleArn (ECS reads them with it)",
        "fieldPath": ".executionRoleArn",
    },
)

# CEL rules the API server checks at apply time; the same rules are enforced above for
# objects that reached the cluster before the CRD carried them.
SPEC_CEL_RULES = (
    {
        "rule": "has(self.taskDefinition) != has(self.container)",
        "message": "exactly one of taskDefinition and container must be set",
    },
    {
        "rule": "!(has(self.launchType) && has(self.capacityProviderStrategy))",
        "message": "launchType and capacityProviderStrategy are mutually exclusive",
        "fieldPath": ".capacityProviderStrategy",
    },
    {
        "rule": "!has(self.maxCount) || self.maxCount >= (has(self.taskCount) ? self.taskCount : 1)",
        "message": "maxCount must be greater than or equal to taskCount",
        "fieldPath": ".maxCount",
    },
    {
        "rule": "!has(self.scheduleStart) || !has(self.scheduleEnd) "
        "|| timestamp(self.scheduleEnd) > timestamp(self.scheduleStart)",
        "message": "scheduleEnd must be after scheduleStart",
        "fieldPath": ".scheduleEnd",
    },
)

TAGS_CEL_RULES = (
    {
        "rule": "self.all(k, size(k) <= 128 && !k.lowerAscii().startsWith('aws:'))",
        "message": "tag keys have at most 128 characters and may not start with aws: (reserved for AWS)",
    },
)
