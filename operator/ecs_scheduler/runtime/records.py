"""The record of a run: its history entry, the runs-finished count and the notifications it owes.

Below both launching (a launch that fails at once is recorded) and following (a run that ended
is recorded), so neither needs the other to say how a run ended.
"""

from typing import Any

from ecs_scheduler.core.history import with_record
from ecs_scheduler.model.status import RunOutcome
from ecs_scheduler.runtime.context import RunContext
from ecs_scheduler.runtime.jobs import JobState
from ecs_scheduler.runtime.runs import Run, run_name

DEFAULT_LIMITS = (3, 1)
"""History limits (successful, others) of a job whose spec is no longer valid."""


class RunRecords:
    def __init__(self, ctx: RunContext) -> None:
        self._ctx = ctx

    def record(self, state: JobState, run: Run, outcome: RunOutcome, reason: str, *, tasks: int) -> None:
        """Add the run's entry to the job's history (within its limits) and owe its notifications."""
        successes, others = (
            (state.job.spec.successful_runs_history_limit, state.job.spec.failed_runs_history_limit)
            if state.job
            else DEFAULT_LIMITS
        )
        entry = run.record(outcome, reason, tasks=tasks, finished=self._ctx.clock.now())
        state.facts.history = with_record(state.facts.history, entry, successes=successes, others=others)
        self._ctx.metrics.runs_finished.labels(outcome).inc()
        self.owe(state, run, entry)

    def launch_failed(self, state: JobState, run: Run, reason: str, *, tasks: int) -> dict[str, Any]:
        """Notify a launch that failed (wholly or in part); the status patch that owes it."""
        entry = run.record("LaunchFailed", reason, tasks=tasks, finished=self._ctx.clock.now())
        return self.owe(state, run, entry)

    def owe(self, state: JobState, run: Run, entry: dict[str, Any]) -> dict[str, Any]:
        """Notify how `run` ended; the status patch that owes it (empty: nobody wants it)."""
        return self._ctx.notifier.owe(state, entry, run=run_name(run), tasks=run.tasks_status())
