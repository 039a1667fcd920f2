"""The end of a run: its verdict, its record, its Events, and a retry when its policy wants one.

Both paths that learn a run has ended come here: following (DescribeTasks, task events) and
launching (an attempt that started nothing ends at once). A retry is planned here and handed
to whoever re-launches (`retry_later`, set by runtime.retries), which sits above both.
"""

import asyncio
from collections.abc import Callable

from ecs_scheduler.core.policies import plan_retry
from ecs_scheduler.core.status import iso, iso_precise
from ecs_scheduler.core.tasks import run_verdict
from ecs_scheduler.model.job import JobKey
from ecs_scheduler.model.status import RunOutcome
from ecs_scheduler.runtime.context import RunContext
from ecs_scheduler.runtime.definitions import TaskDefinitions
from ecs_scheduler.runtime.jobs import JobState
from ecs_scheduler.runtime.records import RunRecords
from ecs_scheduler.runtime.runs import Run
from ecs_scheduler.runtime.status_shape import runs_patch

_WRITES_PER_YIELD = 100
"""After a sweep over thousands of runs, the event loop runs between this many status writes."""

_NEXT_FIRE_GRACE = 5.0
"""Seconds after a job's next instant by which that fire's own status write has merged in what
waited for it (its RunTask is answered well within this)."""


class Conclusion:
    def __init__(self, ctx: RunContext, records: RunRecords, definitions: TaskDefinitions) -> None:
        self._ctx = ctx
        self._records = records
        self._definitions = definitions
        self.retry_later: Callable[[Run], None] = lambda run: None
        """Launches a planned retry when it is due (runtime.retries)."""
        self.concluded: Callable[[JobState, Run, RunOutcome, str], None] = lambda *_: None
        """Told of every run that has ended for good (no retry follows): runtime.on_demand
        counts the runs it asked for."""

    async def finish(self, state: JobState, run: Run) -> RunOutcome:
        """Judge an ended run, record it, say so, and plan its retry."""
        ctx = self._ctx
        verdict = run_verdict(
            await ctx.tracker.verdicts(run), not_started=run.not_started, launch_failures=run.launch_failures
        )
        ctx.tracker.remove(run)
        policy = state.job.spec.retry_policy if state.job else None
        retry = None
        if verdict.outcome == "Failed":
            retry = plan_retry(
                policy, attempt=run.attempt, failure_codes=verdict.failure_codes, now=ctx.clock.now()
            )
        reason = verdict.reason
        if retry is not None and policy is not None:
            reason += f"; retrying {retry.tasks} task(s) at {iso(retry.at)} (attempt {retry.attempt} of {policy.max_attempts})"
        self._records.record(state, run, verdict.outcome, reason, tasks=len(run.arns))
        if verdict.outcome == "Succeeded":
            state.facts.last_successful_run = iso_precise(run.scheduled)
            ctx.report.event(state, "Normal", "RunSucceeded", f"{run.describe()} succeeded: {reason}")
        else:
            ended = "failed" if verdict.outcome == "Failed" else "ended with an unknown outcome"
            ctx.report.event(state, "Warning", "RunFailed", f"{run.describe()} {ended}: {reason}")
        if retry is not None:
            following = run.next_attempt(attempt=retry.attempt, at=retry.at, tasks=retry.tasks)
            ctx.tracker.add(following)
            self.retry_later(following)
            return verdict.outcome
        if state.facts.stale_revisions:
            ctx.background.spawn(self._definitions.prune_revisions(state), name=f"prune:{state.key}")
        self.concluded(state, run, verdict.outcome, reason)
        return verdict.outcome

    async def conclude(self, runs: list[Run], changed: list[Run], *, at_once: bool = False) -> None:
        """Finish those of `runs` that ended; write the jobs of `changed` and of ended runs."""
        ctx = self._ctx
        touched = {run.key for run in changed}
        urgent: set[JobKey] = set()
        for run in runs:
            state = ctx.jobs.get(run.key)
            if state is not None and run.finished and run in ctx.tracker.runs_of(run.key):
                # Thousands of runs may end in one sweep: each waits its turn behind the fires.
                await ctx.after_launch.turn()
                if await self.finish(state, run) != "Succeeded":
                    urgent.add(run.key)
                touched.add(run.key)
        for count, key in enumerate(touched, 1):
            if (state := ctx.jobs.get(key)) is not None:
                within = 0.0 if at_once or key in urgent else self._settle(key)
                ctx.report.write(key, runs_patch(ctx, state), within=within)
            if count % _WRITES_PER_YIELD == 0:
                await asyncio.sleep(0)  # a fire due meanwhile goes first

    def _settle(self, key: JobKey) -> float:
        """How long news that no one waits for (tasks started, a run that succeeded) may wait:
        until the job's next fire, when that is within the merge window, so that one status
        write carries both. Failures are never held back."""
        upcoming = self._ctx.planned(key)
        if upcoming is None:
            return 0.0
        ahead = (upcoming - self._ctx.clock.now()).total_seconds()
        return ahead + _NEXT_FIRE_GRACE if 0.0 <= ahead <= self._ctx.config.status_merge_window else 0.0
