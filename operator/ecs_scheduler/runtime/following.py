"""Following runs to their end: one entry for "this is what ECS says now".

Two sources feed it: DescribeTasks sweeps (`sweep`, and the `track` loop that runs them) and
ECS's event stream (`apply_task_events`). Both go through the tracker's task state machine,
then to the conclusion of the runs that ended. With the event stream, the full sweep is only a
safety net.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from ecs_scheduler.core.taskevents import TaskEvent
from ecs_scheduler.runtime.conclusion import Conclusion
from ecs_scheduler.runtime.context import RunContext
from ecs_scheduler.runtime.runs import Run
from ecs_scheduler.runtime.tracker import EventsApplied

logger = logging.getLogger(__name__)


class Following:
    def __init__(self, ctx: RunContext, conclusion: Conclusion) -> None:
        self._ctx = ctx
        self._conclusion = conclusion

    async def sweep(self, runs: list[Run]) -> None:
        """Refresh `runs`, then finish those that ended and write the jobs that changed."""
        await self._conclusion.conclude(runs, await self._ctx.tracker.refresh(runs))

    async def apply_task_events(self, events: list[TaskEvent]) -> EventsApplied:
        """Apply events from ECS's event stream, finish the runs that ended, and write what
        changed at once (the event's message waits for that write)."""
        result = self._ctx.tracker.apply_events(events, started_by=self._ctx.config.started_by)
        await self._conclusion.conclude(result.changed, result.changed, at_once=True)
        return result

    async def track(self, interval: float, *, look_for_orphans: Callable[[], Awaitable[None] | None]) -> None:
        """Sweep every tracked task forever; before each sweep, `look_for_orphans` may look once
        for tasks nobody recorded (it returns None when nothing is due).

        With ECS's event stream as the source, the full sweep is only a safety net (every
        task_events_sweep seconds); in between, only tasks no event has spoken of for
        task_events_grace seconds are described."""
        config, tracker = self._ctx.config, self._ctx.tracker
        last_full = time.monotonic()
        while True:
            await asyncio.sleep(interval)
            try:
                orphans = look_for_orphans()
                if orphans is not None:
                    await orphans
                if not config.task_events_queue or time.monotonic() - last_full >= config.task_events_sweep:
                    last_full = time.monotonic()
                    runs = tracker.all_runs()
                else:
                    runs = tracker.silent(config.task_events_grace)
                if runs:
                    await self.sweep(runs)
            except Exception:  # one bad sweep must not end tracking
                logger.exception("task sweep failed")
