"""A fire's trigger check: the source measured, the scaling decided (core.scaling), failures
reported on the job. The sources themselves are plug-ins (adapters.triggers)."""

from collections.abc import Mapping
from datetime import datetime

from ecs_scheduler.adapters.aws import ASSUME_ROLE_FAILED
from ecs_scheduler.adapters.triggers import TriggerSource
from ecs_scheduler.core.scaling import ScalingDecision, decide
from ecs_scheduler.core.status import iso_precise
from ecs_scheduler.model.trigger import TriggerFailure
from ecs_scheduler.runtime.context import RunContext
from ecs_scheduler.runtime.following import Following
from ecs_scheduler.runtime.jobs import JobState
from ecs_scheduler.runtime.status_shape import blocked


class Triggers:
    def __init__(self, ctx: RunContext, sources: Mapping[str, TriggerSource], following: Following) -> None:
        self._ctx = ctx
        self._sources = sources
        self._following = following

    async def check(self, state: JobState, instant: datetime) -> ScalingDecision:
        """How many tasks the job's trigger asks for at `instant`. Raises TriggerFailure."""
        assert state.job is not None
        spec = state.job.spec
        trigger = spec.trigger
        assert trigger is not None
        measured = await self._sources[trigger.type].measure(trigger, scope=state.scope, instant=instant)
        running = 0
        if trigger.strategy == "Accurate":
            await self._following.sweep(self._ctx.tracker.runs_of(state.key))
            running = sum(len(run.unfinished()) for run in self._ctx.tracker.runs_of(state.key))
        decision = decide(
            trigger, measured, task_count=spec.task_count, max_count=spec.effective_max_count, running=running
        )
        queue = trigger.queue_name or (trigger.queue_url or "").rsplit("/", 1)[-1]
        self._ctx.metrics.sqs_depth.labels(queue).set(decision.depth)
        return decision

    def report_failure(self, state: JobState, instant: datetime, failure: TriggerFailure) -> None:
        patch = {"lastTriggerCheck": iso_precise(instant)}
        if failure.code == ASSUME_ROLE_FAILED:
            blocked(self._ctx, state, ASSUME_ROLE_FAILED, f"spec.roleArn: {failure.message}", patch)
        else:
            blocked(
                self._ctx, state, "TriggerError", f"spec.trigger: {failure.code}: {failure.message}", patch
            )
