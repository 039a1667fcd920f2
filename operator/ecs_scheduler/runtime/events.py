"""Events, written as the correlator decides: new Events at once, series counts periodically.

Events are best effort, as with client-go's recorder: one that cannot be written (API server
unreachable) is dropped with a warning; the status carries what matters.
"""

import asyncio
import logging
import uuid

from ecs_scheduler.adapters.kube import KubeWriter, ObjectGone
from ecs_scheduler.core.buckets import TokenBucket
from ecs_scheduler.core.events import Correlator, EventType, Post, Series, series_patch
from ecs_scheduler.core.plan import JobIdentity
from ecs_scheduler.runtime.background import Background
from ecs_scheduler.runtime.clock import Clock
from ecs_scheduler.runtime.metrics import Metrics

logger = logging.getLogger(__name__)


class EventRecorder:
    def __init__(
        self,
        kube: KubeWriter,
        clock: Clock,
        background: Background,
        metrics: Metrics,
        *,
        refresh: float,
        rate: float,
        burst: int,
        component: str = "ecs-scheduler",
    ) -> None:
        self._kube = kube
        self._clock = clock
        self._background = background
        self._metrics = metrics
        self._refresh = refresh
        budget = TokenBucket(rate=rate, burst=burst)
        self._correlator = Correlator(refresh=refresh, budget=budget, component=component)

    def record(self, job: JobIdentity, type_: EventType, reason: str, message: str) -> None:
        self._metrics.events.labels(type_).inc()
        post = self._correlator.occurred(
            job,
            type_,
            reason,
            message,
            now=self._clock.now(),
            event_name=f"{job.name}.{uuid.uuid4().hex[:16]}",
        )
        if post is not None:
            self._background.spawn(self._create(post), name=f"event:{job.namespace}/{job.name}")

    def forget(self, namespace: str, name: str) -> None:
        self._correlator.forget(namespace, name)

    async def _create(self, post: Post) -> None:
        try:
            await self._kube.create_event(post.namespace, post.body)
            self._metrics.event_writes.labels("create").inc()
        except Exception as error:
            logger.warning("event %s for %s not posted: %s", post.body["reason"], post.namespace, error)

    async def run(self) -> None:
        """Write what waited for budget or time, forever (a daemon)."""
        while True:
            await asyncio.sleep(min(1.0, self._refresh / 4))
            await self.flush(self._correlator.due(self._clock.now()))

    async def flush(self, due: list[Post | Series]) -> None:
        for write in due:
            if isinstance(write, Post):
                await self._create(write)
                continue
            series, count, now = write, write.count, self._clock.now()
            key = series.key
            try:
                await self._kube.patch_event(key.namespace, series.event_name, series_patch(series))
                self._metrics.event_writes.labels("patch").inc()
                self._correlator.written(series, count, now)
            except ObjectGone:
                self._correlator.lost(series)  # expired (event TTL): the next occurrence creates anew
            except Exception as error:
                logger.warning(
                    "event %s for %s/%s not updated: %s", key.reason, key.namespace, key.name, error
                )

    async def close(self) -> None:
        """At shutdown: write what is not written yet, whatever the budget."""
        await self.flush(self._correlator.all_unwritten(self._clock.now()))
