"""Fire-and-forget coroutines that are still awaited at shutdown and never fail silently."""

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from ecs_scheduler.model.job import JobKey

logger = logging.getLogger(__name__)

JobError = Callable[[JobKey, str, BaseException], None]
"""Told of a job's background work that failed: (job, what it was doing, the error)."""


class Background:
    def __init__(self, on_job_error: JobError | None = None) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._daemons: set[asyncio.Task[Any]] = set()
        self._on_job_error = on_job_error
        self._jobs: dict[asyncio.Task[Any], tuple[JobKey, str]] = {}

    def spawn(
        self,
        coroutine: Coroutine[Any, Any, Any],
        *,
        name: str,
        daemon: bool = False,
        job: JobKey | None = None,
        stage: str = "running",
    ) -> asyncio.Task[Any]:
        """Run `coroutine` in the background. Shutdown awaits ordinary tasks (a launch in
        flight must record its tasks) but cancels daemons (loops and timers). A task for a
        `job` that fails is reported for that job (`on_job_error`), not only logged."""
        task = asyncio.create_task(coroutine, name=name)
        (self._daemons if daemon else self._tasks).add(task)
        if job is not None:
            self._jobs[task] = (job, stage)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        self._daemons.discard(task)
        owner = self._jobs.pop(task, None)
        if task.cancelled() or task.exception() is None:
            return
        error = task.exception()
        assert error is not None
        if owner is not None and self._on_job_error is not None:
            self._on_job_error(owner[0], owner[1], error)
        else:
            logger.error("background task %s failed", task.get_name(), exc_info=error)

    async def wait(self, timeout: float) -> None:
        for daemon in list(self._daemons):
            daemon.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)

    def cancel(self) -> None:
        for task in [*self._tasks, *self._daemons]:
            task.cancel()
