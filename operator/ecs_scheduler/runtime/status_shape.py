"""The status contract of runs, read in one place: what of a job's runs goes into its status.

`active` (runs in flight), `history`, `lastSuccessfulRun`, `lastRunTasks` and the notifications
owed; the marks that let a restart neither repeat nor lose a run (`lastScheduleTime`,
`estimatedNextRun`, `runNowHandled`); and the Ready condition of a job that is scheduled or
blocked.
"""

import logging
from datetime import datetime
from typing import Any

from ecs_scheduler.core.status import Readiness, iso_precise, ready_of, schedule_readiness
from ecs_scheduler.model.status import ReadyReason, RunOrigin
from ecs_scheduler.runtime.context import RunContext
from ecs_scheduler.runtime.jobs import JobState

logger = logging.getLogger(__name__)


def runs_patch(ctx: RunContext, state: JobState) -> dict[str, Any]:
    """The job's runs as status shows them."""
    patch: dict[str, Any] = {
        "active": [run.to_status() for run in ctx.tracker.runs_of(state.key)],
        "history": state.facts.history,
        "lastSuccessfulRun": state.facts.last_successful_run,
    }
    if state.facts.latest_run is not None:
        patch["lastRunTasks"] = state.facts.latest_run.tasks_status()
    if state.facts.owed or state.facts.deliveries:
        patch.update(ctx.notifier.patch(state))
    return patch


def marks(
    state: JobState, instant: datetime, origin: RunOrigin, run_now: str | None, next_run: datetime | None
) -> dict[str, Any]:
    """What the status must remember so that a restart neither repeats nor loses this run."""
    if origin == "RunNow":
        return {"runNowHandled": run_now}
    state.facts.last_schedule_time = max(instant, state.facts.last_schedule_time or instant)
    return {
        "lastScheduleTime": iso_precise(state.facts.last_schedule_time),
        "estimatedNextRun": iso_precise(next_run) if next_run else None,
    }


def scheduled(state: JobState, next_run: datetime | None) -> Readiness:
    """Ready as the job's schedule says (a run-now of a suspended job leaves it Suspended)."""
    if state.job is None:
        return schedule_readiness(suspended=False, next_run=next_run, resolved="")
    return schedule_readiness(
        suspended=state.job.spec.suspended, next_run=next_run, resolved=state.job.schedule.resolved()
    )


def blocked(
    ctx: RunContext, state: JobState, reason: ReadyReason, message: str, patch: dict[str, Any]
) -> None:
    """A fire that could not happen (trigger check, role, task definition): Ready=False with
    AWS's message, and one Warning event per distinct error. The next fire that works clears it."""
    previous = ready_of(state.conditions)
    if previous.get("reason") != reason or previous.get("message") != message:
        ctx.report.event(state, "Warning", reason, message)
    logger.warning("%s for %s: %s", reason, state.key, message)
    ctx.report.ready(state, Readiness(False, reason, message), patch)
