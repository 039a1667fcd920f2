"""Status writes per job: merged, due by a deadline, ordered, and retried until they land.

Every change to a job's status is merged into the job's one pending patch (later changes win
field by field) with a deadline: now for what a user waits to see (a launch, a failure, a spec
decision), later for what can wait (a run that ended well, for a job that fires again soon, is
written with that fire). A fixed number of writes are in flight; the pending patch due first
goes next, and at most one write per job is in flight, so a late write never overtakes a newer
one. Under backpressure, changes queue as one patch per job whatever their number: the backlog
is bounded by the number of jobs, never by the number of fires.
"""

import asyncio
import heapq
import itertools
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from ecs_scheduler.adapters.kube import ObjectGone, StatusWriter
from ecs_scheduler.model.job import JobKey
from ecs_scheduler.runtime.alarm import Alarm
from ecs_scheduler.runtime.metrics import Metrics

logger = logging.getLogger(__name__)

RETRY_DELAYS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


@dataclass
class _Pending:
    patch: dict[str, Any]
    due: float
    """Monotonic time by which this patch should be written."""
    failures: int = 0
    waiters: list["asyncio.Future[None]"] = field(default_factory=list)
    """Resolved once this patch has landed (or the object is gone)."""


class StatusSink:
    def __init__(
        self, writer: StatusWriter, metrics: Metrics, *, concurrency: int = 16, backlog_gauges: bool = True
    ) -> None:
        self._writer = writer
        self._metrics = metrics
        self._pending: dict[JobKey, _Pending] = {}
        self._due: list[tuple[float, int, JobKey]] = []
        """Heap of (due, tie-breaker, job); entries whose job has another due, or is in flight, are stale."""
        self._order = itertools.count()
        self._in_flight: dict[JobKey, _Pending] = {}
        """The patch being written, per job (at most one)."""
        self._slots = asyncio.Semaphore(concurrency)
        self._alarm = Alarm()
        self._dispatcher: asyncio.Task[None] | None = None
        self._writes: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        if backlog_gauges:  # the jobs' sink; a second one (runs on demand) must not take them over
            metrics.status_backlog.set_function(lambda: self._overdue()[0])
            metrics.status_backlog_age.set_function(lambda: self._overdue()[1])

    @staticmethod
    def _now() -> float:
        # The event loop's own clock; read here directly so the metrics thread can use it too.
        return time.monotonic()

    def write(self, key: JobKey, patch: dict[str, Any], *, within: float = 0.0) -> None:
        """Merge `patch` into the job's pending status patch, to be written within `within`
        seconds (0: as soon as a writer is free)."""
        due = self._now() + within
        pending = self._pending.get(key)
        if pending is None:
            self._pending[key] = pending = _Pending(dict(patch), due)
        else:
            pending.patch.update(patch)
            self._metrics.status_writes_merged.inc()
            if due >= pending.due:
                return
            pending.due = due
        self._idle.clear()
        heapq.heappush(self._due, (due, next(self._order), key))
        self._alarm.ring()
        if self._dispatcher is None:
            self._dispatcher = asyncio.create_task(self._dispatch(), name="status-writes")

    def expedite(self, keys: list[JobKey]) -> None:
        """Make these jobs' pending patches due now."""
        now = self._now()
        for key in keys:
            pending = self._pending.get(key)
            if pending is not None and pending.due > now:
                pending.due = now
                heapq.heappush(self._due, (now, next(self._order), key))
        self._alarm.ring()

    def landed(self, key: JobKey) -> "asyncio.Future[None]":
        """Done once everything written for this job so far is in its status (or the job is
        gone): what waits for a record to be durable waits for this."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # A pending patch is written after the one in flight (one write per job at a time), so
        # it is the one to wait for; else the one in flight, if any.
        pending = self._pending.get(key) or self._in_flight.get(key)
        if pending is None:
            future.set_result(None)  # nothing is being or waits to be written: it has landed
        else:
            pending.waiters.append(future)
        return future

    def forget(self, key: JobKey) -> None:
        _resolve(self._pending.pop(key, None))

    async def _dispatch(self) -> None:
        while True:
            # A writer first, then the job: while waiting for a writer the job due first may
            # change, or be deleted (forgotten), and the choice must be made after the wait.
            await self._slots.acquire()
            self._alarm.reset()
            key = self._next_due()
            if key is None:
                self._slots.release()
                self._mark_idle()
                await self._alarm.sleep(self._due[0][0] - self._now() if self._due else None)
                continue
            pending = self._pending.pop(key)
            self._in_flight[key] = pending
            task = asyncio.create_task(self._write(key, pending), name=f"status:{key}")
            self._writes.add(task)
            task.add_done_callback(self._writes.discard)

    def _next_due(self) -> JobKey | None:
        """The job whose pending patch is due first, if it is due now."""
        now = self._now()
        while self._due:
            due, _, key = self._due[0]
            pending = self._pending.get(key)
            if pending is None or pending.due != due or key in self._in_flight:
                heapq.heappop(self._due)  # stale: written, re-dated, or re-queued once its write ends
                continue
            if due > now:
                return None
            heapq.heappop(self._due)
            return key
        return None

    def _mark_idle(self) -> None:
        if not self._pending and not self._in_flight:
            self._idle.set()

    async def _write(self, key: JobKey, pending: _Pending) -> None:
        try:
            with self._metrics.status_writes.time():
                await self._writer.patch_status(key.namespace, key.name, pending.patch)
            _resolve(pending)
        except ObjectGone:
            _resolve(pending)
            _resolve(self._pending.pop(key, None))
        except Exception as error:
            self._metrics.status_write_errors.inc()
            delay = RETRY_DELAYS[min(pending.failures, len(RETRY_DELAYS) - 1)]
            logger.warning("status write for %s failed (%s); retrying in %.1fs", key, error, delay)
            newer = self._pending.pop(key, None)
            # Put it back under anything newer, and try again after the delay.
            merged = {**pending.patch, **(newer.patch if newer else {})}
            waiters = pending.waiters + (newer.waiters if newer else [])
            self._pending[key] = _Pending(merged, self._now() + delay, pending.failures + 1, waiters)
        finally:
            self._in_flight.pop(key, None)
            self._slots.release()
            if key in self._pending:
                heapq.heappush(self._due, (self._pending[key].due, next(self._order), key))
            self._alarm.ring()

    def _overdue(self) -> tuple[float, float]:
        """(jobs whose patch is due and not yet written, seconds the oldest has waited); read by
        the metrics server's thread, so a dict changing meanwhile means: look again."""
        for _ in range(3):
            try:
                now = self._now()
                dues = [p.due for p in list(self._pending.values()) if p.due <= now]
                return float(len(dues)), (now - min(dues)) if dues else 0.0
            except RuntimeError:
                continue
        return float("nan"), float("nan")

    async def drain(self, timeout: float) -> None:
        """Write everything pending now, deferred patches included; wait up to `timeout` seconds
        (at shutdown, and in tests)."""
        self.expedite(list(self._pending))
        if self._pending or self._in_flight:
            try:
                await asyncio.wait_for(self._idle.wait(), timeout)
            except TimeoutError:
                logger.warning(
                    "%d status write(s) not done after %.0fs",
                    len(self._pending) + len(self._in_flight),
                    timeout,
                )

    def cancel(self) -> None:
        if self._dispatcher is not None:
            self._dispatcher.cancel()
        for task in self._writes:
            task.cancel()


def _resolve(pending: _Pending | None) -> None:
    for waiter in pending.waiters if pending else ():
        if not waiter.done():
            waiter.set_result(None)
