"""The status of a ScheduledEcsJob: what the operator observed and did."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from ecs_scheduler.model.base import ApiModel

ConditionStatus = Literal["True", "False", "Unknown"]
ReadyReason = Literal["Scheduled", "Suspended", "InvalidSpec", "Finished", "LaunchFailed", "TriggerError"]


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


class LaunchedTask(ApiModel):
    """One ECS task started by the last run."""

    task_arn: str = Field(description="ARN of the ECS task.")
    last_status: str | None = Field(default=None, description="The task's last known ECS status.")


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
    conditions: list[Condition] = Field(default_factory=list, description="Ready and its reason.")
