"""Retries: a failed run's planned next attempt, launched again through the launch path when due.

Above both launching and the conclusion: the conclusion plans a retry and hands it here
(`later`); this waits, re-enters the launch path (send, receive) and concludes the attempt.
"""

import asyncio
from collections.abc import Callable

from ecs_scheduler.model.spec import ScheduledEcsJobSpec
from ecs_scheduler.runtime.conclusion import Conclusion
from ecs_scheduler.runtime.context import RunContext
from ecs_scheduler.runtime.definitions import TaskDefinitions
from ecs_scheduler.runtime.jobs import JobState
from ecs_scheduler.runtime.launching import Launcher
from ecs_scheduler.runtime.runs import Run
from ecs_scheduler.runtime.status_shape import runs_patch


class Retries:
    def __init__(
        self, ctx: RunContext, *, launcher: Launcher, conclusion: Conclusion, definitions: TaskDefinitions
    ) -> None:
        self._ctx = ctx
        self._launcher = launcher
        self._conclusion = conclusion
        self._definitions = definitions
        conclusion.retry_later = self.later
        self.spec_for: Callable[[JobState, Run], ScheduledEcsJobSpec | None] = lambda state, run: None
        """The spec a run on demand launches with (runtime.on_demand); None: the job's own."""

    def later(self, run: Run) -> None:
        """Launch `run`'s next attempt at its `retry_at`."""
        self._ctx.background.spawn(
            self._retry(run), name=f"retry:{run.key}", daemon=True, job=run.key, stage="retrying"
        )

    async def _retry(self, run: Run) -> None:
        ctx = self._ctx
        assert run.retry_at is not None
        await asyncio.sleep(max(0.0, (run.retry_at - ctx.clock.now()).total_seconds()))
        state = ctx.jobs.get(run.key)
        if state is None or state.job is None or run not in ctx.tracker.runs_of(run.key):
            return  # deleted, invalid or replaced meanwhile
        count = run.retry_tasks
        if not await self._definitions.ensure_registered(state):
            return  # reported; the retry waits in status for the registration to work
        run.task_definition = state.registered or state.job.spec.task_definition
        spec = self.spec_for(state, run) or state.job.spec
        failures = await self._launcher.receive(self._launcher.send(state, spec, run, count))
        # Only now: a sweep during the launch would otherwise see an attempt without tasks as done.
        run.retry_at, run.retry_tasks = None, 0
        ctx.report.event(
            state,
            "Warning" if failures else "Normal",
            "Retried",
            f"started {len(run.reports)} of {count} task(s) for {run.describe()}"
            + (f": {', '.join(run.launch_failures)}" if failures else ""),
        )
        state.facts.latest_run = run
        if run.finished:
            await self._conclusion.finish(state, run)
        ctx.report.write(state.key, runs_patch(ctx, state))
