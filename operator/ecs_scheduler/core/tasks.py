"""How ECS tasks ended, read from DescribeTasks, and what that means for a run.

A run (every task of one attempt) succeeds when every essential container of every task
exited 0. A task ECS no longer reports is unknown, never a success.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from ecs_scheduler.core.status import parse_instant

STOPPED = "STOPPED"
UNKNOWN = "UNKNOWN"
NON_ZERO_EXIT = "EssentialContainerExited"
"""The retry code of a task whose essential container exited non-zero (ECS's own stop code)."""


@dataclass(frozen=True)
class ContainerReport:
    name: str
    exit_code: int | None = None
    reason: str | None = None


@dataclass(frozen=True)
class TaskReport:
    """One task as DescribeTasks last described it."""

    arn: str
    last_status: str
    task_definition_arn: str | None = None
    stop_code: str | None = None
    stopped_reason: str | None = None
    containers: tuple[ContainerReport, ...] = ()
    started_at: datetime | None = None
    stopped_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.last_status in (STOPPED, UNKNOWN)


def task_report(raw: Mapping[str, Any]) -> TaskReport:
    """A DescribeTasks `tasks[]` entry as a report."""
    return TaskReport(
        arn=str(raw["taskArn"]),
        last_status=str(raw.get("lastStatus") or "PROVISIONING"),
        task_definition_arn=raw.get("taskDefinitionArn"),
        stop_code=raw.get("stopCode") or None,
        stopped_reason=raw.get("stoppedReason") or None,
        containers=tuple(
            ContainerReport(str(c.get("name", "")), c.get("exitCode"), c.get("reason") or None)
            for c in raw.get("containers") or []
        ),
        started_at=parse_instant(raw.get("startedAt")),
        stopped_at=parse_instant(raw.get("stoppedAt")),
    )


def unknown_task(arn: str) -> TaskReport:
    return TaskReport(arn, UNKNOWN, stopped_reason="ECS no longer reports this task")


@dataclass(frozen=True)
class TaskVerdict:
    """How one finished task counts: Succeeded, Failed (with a retry code) or Unknown."""

    outcome: Literal["Succeeded", "Failed", "Unknown"]
    reason: str = ""
    code: str = ""


def task_verdict(report: TaskReport, essentials: frozenset[str] | None) -> TaskVerdict | None:
    """None while the task runs. `essentials` are the essential container names (None: all)."""
    if report.last_status == UNKNOWN:
        return TaskVerdict("Unknown", f"task {_short(report.arn)}: {report.stopped_reason}")
    if report.last_status != STOPPED:
        return None
    counted = [c for c in report.containers if essentials is None or c.name in essentials]
    if counted and all(c.exit_code == 0 for c in counted):
        return TaskVerdict("Succeeded")
    code = report.stop_code or NON_ZERO_EXIT
    exited = next((c for c in counted if c.exit_code not in (0, None)), None)
    if exited is not None and code == NON_ZERO_EXIT:
        reason = f"container {exited.name} exited with code {exited.exit_code}"
    else:
        reason = f"{code}: {report.stopped_reason or 'stopped without an exit code'}"
    return TaskVerdict("Failed", f"task {_short(report.arn)}: {reason}", code)


def _short(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class RunVerdict:
    """The outcome of one attempt, and which of its failures may be retried."""

    outcome: Literal["Succeeded", "Failed", "Unknown"]
    reason: str
    failure_codes: tuple[str, ...]
    """One code per task that failed or was not started, for the retry policy."""


def run_verdict(
    verdicts: Sequence[TaskVerdict], *, not_started: int, launch_failures: Sequence[str]
) -> RunVerdict:
    """Failed beats Unknown beats Succeeded; tasks RunTask never started count as failed."""
    failed = [v for v in verdicts if v.outcome == "Failed"]
    codes = [v.code for v in failed]
    reasons = [v.reason for v in failed]
    if not_started:
        launch_codes = list(launch_failures) or ["UNKNOWN"]
        codes += [launch_codes[i % len(launch_codes)] for i in range(not_started)]
        reasons.insert(0, f"{not_started} task(s) not started: {', '.join(dict.fromkeys(launch_codes))}")
    if reasons:
        return RunVerdict("Failed", _summary(reasons), tuple(codes))
    unknown = [v.reason for v in verdicts if v.outcome == "Unknown"]
    if unknown:
        return RunVerdict("Unknown", _summary(unknown), ())
    return RunVerdict("Succeeded", f"{len(verdicts)} task(s) exited 0", ())


def _summary(reasons: Iterable[str]) -> str:
    listed = list(reasons)
    more = f" (and {len(listed) - 1} more)" if len(listed) > 1 else ""
    return listed[0] + more
