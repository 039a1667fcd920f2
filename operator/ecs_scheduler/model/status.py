"""The status of a ScheduledEcsJob: what the operator observed and did."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from ecs_scheduler.model.base import ApiModel

ConditionStatus = Literal["True", "False", "Unknown"]
ReadyReason = Literal[
    "Scheduled",
    "Suspended",
    "InvalidSpec",
    "Forbidden",
    "Finished",
    "LaunchFailed",
    "TriggerError",
    "AssumeRoleFailed",
    "TaskDefinitionFailed",
    "OperatorError",
]


class Condition(ApiModel):
    """A Kubernetes-style condition (type, status, reason, message)."""

    type: str = Field(description="Condition type; the operator maintains Ready.")
    status: ConditionStatus = Field(description="True, False or Unknown.")
    reason: str = Field(description="One CamelCase word saying why.")
    message: str = Field(default="", description="Human-readable details.")
    last_transition_time: datetime | None = Field(default=None, description="When status last changed.")
    observed_generation: int | None = Field(
        default=None, description="The spec generation this condition was computed from."
    )


RunOrigin = Literal["Schedule", "RunNow", "Backfill"]
RunOutcome = Literal["Succeeded", "Failed", "Unknown", "Skipped", "Replaced"]


class ContainerResult(ApiModel):
    """How one container of a task ended."""

    name: str = Field(description="Container name.")
    exit_code: int | None = Field(default=None, description="Exit code, once the container stopped.")
    reason: str | None = Field(default=None, description="Why the container stopped, when ECS says.")


class LaunchedTask(ApiModel):
    """One ECS task started by the last run, as the operator last saw it."""

    task_arn: str = Field(description="ARN of the ECS task.")
    last_status: str | None = Field(
        default=None, description="The task's last known ECS status; UNKNOWN when ECS no longer reports it."
    )
    stop_code: str | None = Field(default=None, description="ECS stop code, once stopped.")
    stopped_reason: str | None = Field(default=None, description="ECS stopped reason, once stopped.")
    containers: list[ContainerResult] = Field(default_factory=list, description="Per-container results.")
    started_at: datetime | None = Field(default=None, description="When the task started running.")
    stopped_at: datetime | None = Field(default=None, description="When the task stopped.")


class ActiveRun(ApiModel):
    """A run with tasks not yet stopped, or waiting for a retry: what a restart resumes."""

    scheduled_time: datetime = Field(description="The instant this run is for.")
    origin: RunOrigin = Field(
        default="Schedule",
        description="Schedule; RunNow for a manual run; Backfill for an instant of a backfill.",
    )
    run_now: str | None = Field(default=None, description="The run-now annotation value, for RunNow runs.")
    request: str | None = Field(default=None, description="The ScheduledEcsJobRun that asked for this run.")
    attempt: int = Field(default=1, ge=1, description="Attempt number, 1 for the first.")
    token_attempt: int = Field(
        default=0, ge=0, description="Attempt whose clientToken this one reuses (after an uncertain failure)."
    )
    region: str | None = Field(default=None, description="Region the tasks run in.")
    role_arn: str | None = Field(
        default=None, description="Role the operator assumed to start and follow them."
    )
    cluster: str = Field(description="Cluster the tasks run in.")
    task_arns: list[str] = Field(default_factory=list, description="Tasks of this attempt.")
    not_started: int = Field(default=0, ge=0, description="Tasks RunTask did not start.")
    launch_failures: list[str] = Field(default_factory=list, description="Why RunTask did not start them.")
    retry_at: datetime | None = Field(
        default=None, description="When the next attempt starts, if one is due."
    )
    retry_tasks: int = Field(default=0, ge=0, description="Tasks the next attempt starts.")


class RunRecord(ApiModel):
    """One finished (or skipped) attempt of a run."""

    scheduled_time: datetime = Field(description="The instant the run was for.")
    origin: RunOrigin = Field(default="Schedule", description="Schedule, RunNow or Backfill.")
    request: str | None = Field(default=None, description="The ScheduledEcsJobRun that asked for this run.")
    attempt: int = Field(default=1, ge=1, description="Attempt number.")
    outcome: RunOutcome = Field(description="Succeeded, Failed, Unknown, Skipped or Replaced.")
    tasks: int = Field(default=0, ge=0, description="Tasks the attempt started.")
    reason: str = Field(default="", description="Why it failed or was skipped, and whether it is retried.")
    finished_time: datetime | None = Field(default=None, description="When the operator saw it end.")


NotificationType = Literal["sns", "sqs", "webhook"]


class NotificationDelivery(ApiModel):
    """The latest delivery to one notification target."""

    type: NotificationType = Field(description="sns, sqs or webhook.")
    target: str = Field(description="The topic ARN, queue URL or webhook URL.")
    time: datetime = Field(description="When it was attempted.")
    outcome: Literal["Delivered", "Failed", "Abandoned"] = Field(
        description="Delivered; Failed (will be tried again); Abandoned (out of attempts, or refused)."
    )
    event_id: str = Field(description="The CloudEvent id.")
    error: str | None = Field(default=None, description="Why it failed.")


class OwedNotification(ApiModel):
    """A notification not yet delivered: what a restart or a new leader sends again."""

    type: NotificationType = Field(description="sns, sqs or webhook.")
    target: str = Field(description="The topic ARN, queue URL or webhook URL.")
    event_id: str = Field(description="The CloudEvent id (receivers deduplicate by it).")
    payload: str = Field(description="The CloudEvent, exactly as it is sent.")
    attempts: int = Field(default=0, ge=0, description="Attempts made so far.")
    next_attempt: datetime = Field(description="When it is tried next.")


class ScheduledEcsJobStatus(ApiModel):
    """What the operator observed and did for this job."""

    last_run: datetime | None = Field(default=None, description="Scheduled instant of the last run.")
    last_run_tasks: list[LaunchedTask] = Field(
        default_factory=list, description="Tasks started by the last run."
    )
    estimated_next_run: datetime | None = Field(
        default=None, description="Next instant the job will run, if it is scheduled."
    )
    resolved_schedule: str | None = Field(
        default=None,
        description="The schedule as the operator evaluates it, with every '?' and H replaced by its value.",
    )
    observed_generation: int | None = Field(
        default=None, description="The spec generation the operator last acted on."
    )
    last_trigger_check: datetime | None = Field(
        default=None, description="When the trigger was last checked."
    )
    last_queue_depth: int | None = Field(default=None, description="Queue depth counted at the last check.")
    last_decision: str | None = Field(
        default=None, description="What the last check decided, e.g. 'depth 250, 100 per task -> 3 tasks'."
    )
    last_schedule_time: datetime | None = Field(
        default=None,
        description="The latest scheduled instant the operator handled (ran, skipped or missed); restarts resume after it.",
    )
    last_successful_run: datetime | None = Field(
        default=None, description="Scheduled instant of the latest run that succeeded."
    )
    active: list[ActiveRun] = Field(
        default_factory=list, description="Runs whose tasks are still running, or that wait for a retry."
    )
    history: list[RunRecord] = Field(
        default_factory=list,
        description="Latest finished runs, oldest first, within successfulRunsHistoryLimit and failedRunsHistoryLimit.",
    )
    run_now_handled: str | None = Field(
        default=None, description="The last value of the ecs-scheduler.dev/run-now annotation acted on."
    )
    task_definition_arn: str | None = Field(
        default=None,
        description="For a container job: the task definition revision the operator registered and runs.",
    )
    task_definition_hash: str | None = Field(
        default=None, description="Content hash of spec.container that revision was registered from."
    )
    notifications: list[NotificationDelivery] = Field(
        default_factory=list, description="The latest delivery to each of spec.notifications."
    )
    owed_notifications: list[OwedNotification] = Field(
        default_factory=list, description="Notifications not yet delivered (retried with backoff)."
    )
    conditions: list[Condition] = Field(default_factory=list, description="Ready and its reason.")
