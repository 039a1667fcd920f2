"""Follow tasks from ECS's event stream: receive, apply, wait for status, then delete.

Events are at least once and in any order; the task state machine drops repeats and late
states, so a message received twice does no harm. A message is deleted only once what it said
is in the job's status (the sink's `landed`): an operator killed in between leaves it in the
queue, and the next leader applies it again. Batches are handled concurrently (a few), while
the next long poll is already waiting.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from ecs_scheduler.adapters.taskqueue import QueueError, QueueMessage, TaskEventQueue
from ecs_scheduler.core.taskevents import Malformed, TaskEvent, parse_task_event
from ecs_scheduler.model.job import JobKey
from ecs_scheduler.runtime.metrics import Metrics
from ecs_scheduler.runtime.tracker import EventsApplied

logger = logging.getLogger(__name__)

BATCHES_IN_FLIGHT = 4
LANDED_TIMEOUT = 60.0
"""How long a batch waits for its status writes; after that its messages are left to come back."""
RECEIVE_RETRY = (1.0, 2.0, 5.0, 10.0, 30.0)

ApplyEvents = Callable[[list[TaskEvent]], Awaitable[EventsApplied]]
Landed = Callable[[JobKey], "asyncio.Future[None]"]


class TaskEventConsumer:
    def __init__(
        self,
        queue: TaskEventQueue,
        *,
        apply: ApplyEvents,
        landed: Landed,
        metrics: Metrics,
        sns_topics: tuple[str, ...] = (),
    ) -> None:
        self._queue = queue
        self._sns_topics = sns_topics
        self._apply = apply
        self._landed = landed
        self._metrics = metrics
        self._slots = asyncio.Semaphore(BATCHES_IN_FLIGHT)
        self._batches: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                messages = await self._queue.receive()
            except QueueError as error:
                delay = RECEIVE_RETRY[min(failures, len(RECEIVE_RETRY) - 1)]
                failures += 1
                logger.warning("reading the task events queue failed (%s); again in %.0f s", error, delay)
                self._metrics.task_events.labels("receive_failed").inc()
                await asyncio.sleep(delay)
                continue
            failures = 0
            if not messages:
                continue
            await self._slots.acquire()
            batch = asyncio.create_task(self._handle(messages), name="task-events-batch")
            self._batches.add(batch)
            batch.add_done_callback(self._batch_done)

    def _batch_done(self, batch: "asyncio.Task[None]") -> None:
        self._batches.discard(batch)
        self._slots.release()
        if not batch.cancelled() and batch.exception() is not None:
            logger.error("a batch of task events failed", exc_info=batch.exception())

    async def _handle(self, messages: list[QueueMessage]) -> None:
        events: dict[str, TaskEvent] = {}
        readable: list[QueueMessage] = []
        for message in messages:
            try:
                event = parse_task_event(message.body, sns_topics=self._sns_topics)
            except Malformed as error:
                await self._move_aside(message, str(error))
                continue
            events.setdefault(event.id, event)  # the same event twice in one batch: once
            readable.append(message)
        if not readable:
            return
        result = await self._apply(list(events.values()))
        for outcome, count in (
            ("applied", result.applied),
            ("stale", result.stale),
            ("foreign", result.foreign),
        ):
            if count:
                self._metrics.task_events.labels(outcome).inc(count)
        self._metrics.task_events.labels("duplicate").inc(len(readable) - len(events))
        if result.jobs:
            waits = asyncio.gather(*(self._landed(key) for key in result.jobs))
            try:
                await asyncio.wait_for(waits, LANDED_TIMEOUT)
            except TimeoutError:
                logger.warning(
                    "status of %d job(s) not written in time; their events come back", len(result.jobs)
                )
                return
        try:
            await self._queue.delete(readable)
        except QueueError as error:
            logger.warning("deleting %d task event message(s) failed: %s", len(readable), error)

    async def _move_aside(self, message: QueueMessage, reason: str) -> None:
        self._metrics.task_events.labels("malformed").inc()
        logger.warning("unreadable task event message %s: %s", message.id, reason)
        try:
            await self._queue.move_aside(message, reason)
        except QueueError as error:
            logger.warning("moving message %s aside failed: %s", message.id, error)

    async def close(self) -> None:
        for batch in list(self._batches):
            batch.cancel()
        await asyncio.gather(*self._batches, return_exceptions=True)
