"""A ScheduledEcsJobRun: one run of a job on demand, or a backfill of its schedule's instants.

It relates to its ScheduledEcsJob as a Job to its CronJob: created by whoever may start runs
(RBAC separates that from changing the schedule), owned by the job, with its own status, and
deleted some time after it finished. The job's spec is never touched, so GitOps sees no drift.
"""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from ecs_scheduler.model import limits
from ecs_scheduler.model.base import ApiModel
from ecs_scheduler.model.limits import ContainerName
from ecs_scheduler.model.spec import MAX_TASKS_PER_FIRE, Args, Environment
from ecs_scheduler.model.status import Condition, LaunchedTask

MAX_BACKFILL_INSTANTS = 1000
"""The most instants one backfill may cover: a larger one is refused (split it)."""

MAX_PARALLELISM = 50
DEFAULT_TTL_SECONDS = 86400
"""A finished run is deleted a day after it finished, unless it says otherwise."""

RECENT_INSTANTS = 20
"""Finished instants a backfill's status lists with their tasks (the counters cover them all)."""

JobName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")]


class RunOverrides(ApiModel):
    """Changes for this run only, on top of the job's own overrides."""

    container: ContainerName | None = Field(
        default=None,
        description="The container the environment and command are for. Default: the job's only "
        "container (spec.container, or its one containerOverrides entry).",
    )
    environment: Environment = Field(
        default_factory=dict, description="Environment variables for this run; they win over the job's."
    )
    command: Args | None = Field(
        default=None, description="Command that replaces the container's, for this run."
    )


class Backfill(ApiModel):
    """Run the job's scheduled instants in a past range, each exactly once."""

    from_: datetime = Field(
        alias="from", description="The first instant considered (inclusive, with an offset)."
    )
    to: datetime = Field(description="The last instant considered (inclusive, with an offset).")
    parallelism: int = Field(
        default=1,
        ge=1,
        le=MAX_PARALLELISM,
        description="Instants whose tasks may run at once, in instant order.",
    )
    force: bool = Field(
        default=False,
        description="Run instants the job's history already has too (with a token of this run, so ECS "
        "starts them again instead of answering with the earlier tasks).",
    )

    @model_validator(mode="after")
    def _ordered(self) -> "Backfill":
        if self.from_.tzinfo is None or self.to.tzinfo is None:
            raise ValueError("from and to need an offset, e.g. 2026-11-28T01:00:00Z")
        if self.to < self.from_:
            raise ValueError("to is before from")
        return self


class ScheduledEcsJobRunSpec(ApiModel):
    """Which job to run, how, and for which instants."""

    job_name: JobName = Field(description="The ScheduledEcsJob in this namespace to run.")
    overrides: RunOverrides | None = Field(default=None, description="Environment and command for this run.")
    task_count: int | None = Field(
        default=None,
        ge=1,
        le=MAX_TASKS_PER_FIRE,
        description="Tasks to start (default: the job's taskCount).",
    )
    backfill: Backfill | None = Field(
        default=None, description="Run the instants of the job's schedule in a range instead of one run now."
    )
    ttl_seconds_after_finished: int = Field(
        default=DEFAULT_TTL_SECONDS,
        ge=0,
        le=limits.MAX_DEADLINE_SECONDS,
        description="Seconds after it finished before the operator deletes this run (default a day).",
    )


RunPhase = Literal["Pending", "Running", "Succeeded", "Failed"]
InstantOutcome = Literal["Succeeded", "Failed", "Unknown", "Skipped"]


class LogLocation(ApiModel):
    """Where one container of a task writes its output."""

    task_id: str = Field(description="The task (the last part of its ARN).")
    container: str = Field(description="Container name.")
    log_group: str | None = Field(default=None, description="CloudWatch Logs group (awslogs driver).")
    log_stream: str | None = Field(
        default=None, description="CloudWatch Logs stream: prefix/container/taskId."
    )
    region: str | None = Field(default=None, description="Region of the log group.")
    note: str | None = Field(default=None, description="Why no location is given (another log driver).")


class InstantResult(ApiModel):
    """One instant of this run: its tasks and how it ended."""

    scheduled_time: datetime = Field(description="The instant.")
    outcome: InstantOutcome | None = Field(default=None, description="How it ended; empty while running.")
    reason: str = Field(default="", description="Why it failed or was skipped.")
    tasks: list[LaunchedTask] = Field(default_factory=list, description="Its tasks, as last seen.")
    logs: list[LogLocation] = Field(default_factory=list, description="Where its tasks' output is.")


class ScheduledEcsJobRunStatus(ApiModel):
    """What the operator did for this run."""

    phase: RunPhase | None = Field(default=None, description="Pending, Running, Succeeded or Failed.")
    job_uid: str | None = Field(default=None, description="The uid of the job this run belongs to.")
    start_time: datetime | None = Field(default=None, description="When its first task was launched.")
    completion_time: datetime | None = Field(default=None, description="When it finished.")
    total: int = Field(default=0, ge=0, description="Instants this run covers (1 for a run now).")
    succeeded: int = Field(default=0, ge=0, description="Instants that succeeded.")
    failed: int = Field(default=0, ge=0, description="Instants that failed or ended unknown.")
    skipped: int = Field(default=0, ge=0, description="Instants skipped (already in the job's history).")
    planned: list[datetime] = Field(
        default_factory=list,
        max_length=MAX_BACKFILL_INSTANTS,
        description="The instants to run, in order (skipped ones left out); fixed when the run starts.",
    )
    launched: int = Field(
        default=0, ge=0, description="Instants of planned launched so far: a restart goes on after them."
    )
    in_progress: list[datetime] = Field(default_factory=list, description="Instants whose tasks run now.")
    instants: list[InstantResult] = Field(
        default_factory=list,
        description=f"The instants in progress and the latest {RECENT_INSTANTS} finished.",
    )
    conditions: list[Condition] = Field(default_factory=list, description="Complete or Failed, and why.")
