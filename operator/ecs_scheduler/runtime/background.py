"""Fire-and-forget coroutines that are still awaited at shutdown and never fail silently."""

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

logger = logging.getLogger(__name__)


class Background:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._daemons: set[asyncio.Task[Any]] = set()

    def spawn(
        self, coroutine: Coroutine[Any, Any, Any], *, name: str, daemon: bool = False
    ) -> asyncio.Task[Any]:
        """Run `coroutine` in the background. Shutdown awaits ordinary tasks (a launch in
        flight must record its tasks) but cancels daemons (loops and timers)."""
        task = asyncio.create_task(coroutine, name=name)
        (self._daemons if daemon else self._tasks).add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        self._daemons.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def wait(self, timeout: float) -> None:
        for daemon in list(self._daemons):
            daemon.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)

    def cancel(self) -> None:
        for task in [*self._tasks, *self._daemons]:
            task.cancel()
