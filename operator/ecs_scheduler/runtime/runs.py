"""A run in flight: one attempt's tasks, as last described, and its way into and out of status."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ecs_scheduler.core.runstate import Observation, TaskState, Transition, observe
from ecs_scheduler.core.status import iso, iso_precise
from ecs_scheduler.core.tasks import TaskReport
from ecs_scheduler.model.aws import AssumedRole, AwsScope, session_name
from ecs_scheduler.model.job import JobKey
from ecs_scheduler.model.notify import NotifyOutcome
from ecs_scheduler.model.status import ActiveRun, RunOrigin


@dataclass
class Run:
    key: JobKey
    scheduled: datetime
    cluster: str
    scope: AwsScope
    """Where its tasks run: the region and the role its calls use."""
    origin: RunOrigin = "Schedule"
    run_now: str | None = None
    request: str | None = None
    """The ScheduledEcsJobRun that asked for this run (None: the schedule or the annotation)."""
    behind: bool = False
    """A backfill's run: its calls wait behind scheduled fires."""
    attempt: int = 1
    token_attempt: int = 0
    """The attempt whose clientToken this attempt sends (0: its own). A retry after an uncertain
    launch failure sends the failed attempt's token again."""
    reports: dict[str, TaskReport] = field(default_factory=dict)
    not_started: int = 0
    launch_failures: list[str] = field(default_factory=list)
    uncertain: bool = False
    """Every launch failure of this attempt was uncertain (ECS may have started its tasks)."""
    queued_seconds: float = 0.0
    """How long its RunTask calls waited behind the RunTask rate limit (the longest)."""
    retry_at: datetime | None = None
    retry_tasks: int = 0
    missing: dict[str, int] = field(default_factory=dict)
    """Consecutive sweeps in which DescribeTasks did not return each task."""
    versions: dict[str, int] = field(default_factory=dict)
    """ECS's version of each task's latest applied state (orders unordered events)."""
    heard: set[str] = field(default_factory=set)
    """Tasks the event stream has spoken of: they need no prompt DescribeTasks."""
    noticed: dict[str, float] = field(default_factory=dict)
    """When (monotonic seconds) each task was last described or first seen by the tracker."""
    task_definition: str | None = None
    """The task definition this attempt launched (None: not known, as after a restart)."""

    @property
    def arns(self) -> list[str]:
        return list(self.reports)

    def observe(self, arn: str, seen: Observation) -> Transition:
        """Apply what a source says of one of this run's tasks (core.runstate decides)."""
        current = TaskState(self.reports[arn], self.versions.get(arn, 0), self.missing.get(arn, 0))
        step = observe(current, seen)
        self.reports[arn] = step.state.report
        self.versions[arn] = step.state.version
        if step.state.missing:
            self.missing[arn] = step.state.missing
        else:
            self.missing.pop(arn, None)
        return step

    def unfinished(self) -> list[str]:
        return [arn for arn, report in self.reports.items() if not report.finished]

    @property
    def waiting_for_retry(self) -> bool:
        return self.retry_at is not None

    @property
    def finished(self) -> bool:
        return not self.waiting_for_retry and not self.unfinished()

    def next_attempt(self, *, attempt: int, at: datetime, tasks: int) -> "Run":
        """The retry of this attempt, waiting until `at` to start `tasks` tasks."""
        return Run(
            key=self.key,
            scheduled=self.scheduled,
            cluster=self.cluster,
            scope=self.scope,
            origin=self.origin,
            run_now=self.run_now,
            request=self.request,
            behind=self.behind,
            attempt=attempt,
            # Nothing ran and ECS may have started tasks anyway: ask again with the same token.
            token_attempt=(self.token_attempt or self.attempt) if self.uncertain and not self.reports else 0,
            retry_at=at,
            retry_tasks=tasks,
        )

    def describe(self) -> str:
        if self.request is not None:
            what = f"run {self.request!r}" + (
                f" ({iso(self.scheduled)})" if self.origin == "Backfill" else ""
            )
        elif self.origin == "RunNow":
            what = f"run-now {self.run_now!r}"
        else:
            what = f"the run for {iso(self.scheduled)}"
        return what if self.attempt == 1 else f"{what} (attempt {self.attempt})"

    def to_status(self) -> dict[str, Any]:
        """The status.active entry (the ActiveRun model's shape; built by hand because this runs
        for every status write of every job with a run in flight)."""
        entry: dict[str, Any] = {
            "scheduledTime": iso_precise(self.scheduled),
            "cluster": self.cluster,
            "taskArns": self.arns,
        }
        optional: tuple[tuple[str, Any, Any], ...] = (
            ("origin", self.origin, "Schedule"),
            ("runNow", self.run_now, None),
            ("request", self.request, None),
            ("attempt", self.attempt, 1),
            ("tokenAttempt", self.token_attempt, 0),
            ("region", self.scope.region, None),
            ("roleArn", self.scope.role.arn if self.scope.role else None, None),
            ("notStarted", self.not_started, 0),
            ("launchFailures", self.launch_failures, []),
            ("retryTasks", self.retry_tasks, 0),
        )
        entry.update({name: value for name, value, default in optional if value != default})
        if self.retry_at is not None:
            entry["retryAt"] = iso_precise(self.retry_at)
        return entry

    @classmethod
    def from_status(cls, key: JobKey, raw: dict[str, Any], *, role: AssumedRole | None = None) -> "Run":
        """The run a status.active entry describes; `role` is the job's current role, whose way of
        being assumed (external ID) is reused when the entry names the same role."""
        active = ActiveRun.model_validate(raw)
        if active.role_arn is None:
            role = None
        elif role is None or role.arn != active.role_arn:
            role = AssumedRole(active.role_arn, session_name(key.namespace))
        return cls(
            key=key,
            scheduled=active.scheduled_time,
            cluster=active.cluster,
            scope=AwsScope(active.region, role),
            origin=active.origin,
            run_now=active.run_now,
            request=active.request,
            behind=active.origin == "Backfill",
            attempt=active.attempt,
            token_attempt=active.token_attempt,
            reports={arn: TaskReport(arn, "PROVISIONING") for arn in active.task_arns},
            not_started=active.not_started,
            launch_failures=list(active.launch_failures),
            retry_at=active.retry_at,
            retry_tasks=active.retry_tasks,
        )

    def record(
        self, outcome: NotifyOutcome, reason: str, *, tasks: int, finished: datetime
    ) -> dict[str, Any]:
        """How this attempt ended, as a status.history entry (and a notification's data) says it."""
        return {
            "scheduledTime": iso_precise(self.scheduled),
            "origin": self.origin,
            **({"request": self.request} if self.request is not None else {}),
            "attempt": self.attempt,
            "outcome": outcome,
            "tasks": tasks,
            "reason": reason,
            "finishedTime": iso(finished),
        }

    def tasks_status(self) -> list[dict[str, Any]]:
        """lastRunTasks entries."""
        return [_task_status(report) for report in self.reports.values()]


def _task_status(report: TaskReport) -> dict[str, Any]:
    entry: dict[str, Any] = {"taskArn": report.arn, "lastStatus": report.last_status}
    for name, value in (("stopCode", report.stop_code), ("stoppedReason", report.stopped_reason)):
        if value:
            entry[name] = value
    for name, instant in (("startedAt", report.started_at), ("stoppedAt", report.stopped_at)):
        if instant is not None:
            entry[name] = iso(instant)
    if report.containers:
        entry["containers"] = [
            {
                k: v
                for k, v in (("name", c.name), ("exitCode", c.exit_code), ("reason", c.reason))
                if v is not None
            }
            for c in report.containers
        ]
    return entry


def run_name(run: Run) -> str:
    """What names a run in a notification's id: its instant, or its run-now value."""
    if run.run_now is not None:  # a forced backfill's instant names itself like a run now
        return f"run-now:{run.run_now}"
    return iso_precise(run.scheduled)
