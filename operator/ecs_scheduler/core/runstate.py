"""A task's state machine: what it was, what a source says now, what that changes.

Two sources say how a task is doing: DescribeTasks (polled) and ECS's event stream (pushed,
at least once, in any order). Both go through `observe`, so they can never disagree on what a
repeated, late or missing observation means:

- a finished task (STOPPED, or UNKNOWN once ECS forgot it) never changes again;
- an observation older than what is known is dropped: ECS's `version` orders a task's states
  when both sides have one (events always do), otherwise the lifecycle order of `lastStatus`
  does (PROVISIONING ... STOPPED), so a late PENDING never overwrites RUNNING;
- a task DescribeTasks did not return is counted; absent `missing_limit` times in a row, it is
  UNKNOWN (ECS forgets stopped tasks after about an hour).
"""

from dataclasses import dataclass, replace

from ecs_scheduler.core.tasks import STOPPED, TaskReport, unknown_task

LIFECYCLE = (
    "PROVISIONING",
    "PENDING",
    "ACTIVATING",
    "RUNNING",
    "DEACTIVATING",
    "STOPPING",
    "DEPROVISIONING",
    STOPPED,
)
"""ECS's task lifecycle, in order (an unlisted status counts as the start)."""

MISSING_SWEEPS = 2
"""A task just started may not be visible yet; absent twice in a row means ECS forgot it."""


@dataclass(frozen=True)
class TaskState:
    report: TaskReport
    version: int = 0
    """The highest ECS version applied (0: none known)."""
    missing: int = 0
    """DescribeTasks calls in a row that did not return the task."""


@dataclass(frozen=True)
class Observation:
    """What one source said about one task: a report, or None when DescribeTasks left it out."""

    report: TaskReport | None
    version: int | None = None


@dataclass(frozen=True)
class Transition:
    state: TaskState
    recorded: bool
    """The report changed: status must show it."""
    ended: bool
    """The task finished with this observation: its run may be over."""
    stale: bool = False
    """Dropped: a repeat, or older than what is known."""


def _rank(status: str) -> int:
    return LIFECYCLE.index(status) if status in LIFECYCLE else 0


def _newer(current: TaskState, report: TaskReport, version: int | None) -> bool:
    if version is not None and current.version:
        return version > current.version
    return _rank(report.last_status) >= _rank(current.report.last_status)


def observe(current: TaskState, seen: Observation, *, missing_limit: int = MISSING_SWEEPS) -> Transition:
    """The task's state after `seen`, and what that means for its run."""
    if current.report.finished:
        return Transition(current, recorded=False, ended=False, stale=True)
    if seen.report is None:
        missing = current.missing + 1
        if missing < missing_limit:
            return Transition(replace(current, missing=missing), recorded=False, ended=False)
        return Transition(TaskState(unknown_task(current.report.arn), current.version), True, True)
    if not _newer(current, seen.report, seen.version):
        return Transition(replace(current, missing=0), recorded=False, ended=False, stale=True)
    state = TaskState(seen.report, max(current.version, seen.version or 0))
    changed = seen.report != current.report
    return Transition(state, recorded=changed, ended=seen.report.finished, stale=not changed)
