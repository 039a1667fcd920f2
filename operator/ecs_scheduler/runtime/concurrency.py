"""concurrencyPolicy carried out: a fire while a run is still active is skipped (Forbid) or
stops that run first (Replace). The decision itself is core.policies'."""

from datetime import datetime
from typing import Any

from ecs_scheduler.adapters.ecs import EcsError
from ecs_scheduler.core.status import iso
from ecs_scheduler.model.status import RunOrigin
from ecs_scheduler.runtime.context import RunContext
from ecs_scheduler.runtime.jobs import JobState
from ecs_scheduler.runtime.records import RunRecords
from ecs_scheduler.runtime.runs import Run
from ecs_scheduler.runtime.status_shape import runs_patch


class Concurrency:
    def __init__(self, ctx: RunContext, records: RunRecords) -> None:
        self._ctx = ctx
        self._records = records

    def skip(
        self,
        state: JobState,
        instant: datetime,
        origin: RunOrigin,
        run_now: str | None,
        marks: dict[str, Any],
    ) -> None:
        ctx = self._ctx
        active = ", ".join(run.describe() for run in ctx.tracker.runs_of(state.key))
        reason = f"{active} still active (concurrencyPolicy Forbid)"
        skipped = Run(state.key, instant, "", state.scope, origin=origin, run_now=run_now)
        self._records.record(state, skipped, "Skipped", reason, tasks=0)
        ctx.report.event(state, "Normal", "RunSkipped", f"skipped the run for {iso(instant)}: {reason}")
        ctx.report.write(state.key, {**marks, **runs_patch(ctx, state)})

    async def replace(self, state: JobState, instant: datetime) -> None:
        ctx = self._ctx
        reason = f"replaced by the run for {iso(instant)} (concurrencyPolicy Replace)"
        for run in ctx.tracker.runs_of(state.key):
            stopped = 0
            for arn in run.unfinished():
                try:
                    await ctx.ecs.stop_task(cluster=run.cluster, scope=run.scope, arn=arn, reason=reason)
                    stopped += 1
                except EcsError as error:
                    ctx.report.event(state, "Warning", "StopFailed", f"could not stop {arn}: {error}")
            ctx.tracker.remove(run)
            self._records.record(
                state, run, "Replaced", f"{stopped} task(s) stopped: {reason}", tasks=len(run.arns)
            )
            ctx.report.event(state, "Normal", "RunReplaced", f"stopped {run.describe()}: {reason}")
