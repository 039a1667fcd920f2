"""Status writes per job: merged, ordered, and retried until they land.

Many changes to one job's status (a spec change, then a fire) are merged into one pending
patch, and at most one write per job is in flight, so a late write never overtakes a newer
one. A failed write stays pending and is retried, so status converges after an API outage.
"""

import asyncio
import logging
from typing import Any

from ecs_scheduler.adapters.kube import KubeWriter, ObjectGone
from ecs_scheduler.model.job import JobKey
from ecs_scheduler.runtime.metrics import Metrics

logger = logging.getLogger(__name__)

RETRY_DELAYS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


class StatusSink:
    def __init__(self, writer: KubeWriter, metrics: Metrics) -> None:
        self._writer = writer
        self._metrics = metrics
        self._pending: dict[JobKey, dict[str, Any]] = {}
        self._flushing: dict[JobKey, asyncio.Task[None]] = {}

    def write(self, key: JobKey, patch: dict[str, Any]) -> None:
        """Queue a merge patch of `.status`; later patches win field by field."""
        self._pending.setdefault(key, {}).update(patch)
        if key not in self._flushing:
            self._flushing[key] = asyncio.create_task(self._flush(key), name=f"status:{key}")

    def forget(self, key: JobKey) -> None:
        self._pending.pop(key, None)

    async def _flush(self, key: JobKey) -> None:
        attempt = 0
        try:
            while key in self._pending:
                patch = self._pending.pop(key)
                try:
                    with self._metrics.status_writes.time():
                        await self._writer.patch_status(key.namespace, key.name, patch)
                    attempt = 0
                except ObjectGone:
                    self._pending.pop(key, None)
                    return
                except Exception as error:
                    self._metrics.status_write_errors.inc()
                    # Put it back under anything newer, and wait before the next try.
                    self._pending[key] = {**patch, **self._pending.get(key, {})}
                    delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
                    attempt += 1
                    logger.warning("status write for %s failed (%s); retrying in %.1fs", key, error, delay)
                    await asyncio.sleep(delay)
        finally:
            self._flushing.pop(key, None)

    async def drain(self, timeout: float) -> None:
        """Wait for pending writes, up to `timeout` seconds (used at shutdown and in tests)."""
        tasks = list(self._flushing.values())
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    def cancel(self) -> None:
        for task in self._flushing.values():
            task.cancel()
