"""Task definitions of container jobs: one revision per distinct container spec, found again
after a restart or failover instead of registered twice, and old revisions deregistered.

A job's status remembers the revision and its content hash, so a restart with unchanged specs
makes no AWS call at all. Otherwise the family's newest revisions are searched for the content
hash (a replica that took over mid-registration finds the one its predecessor registered), and
only then is a revision registered.
"""

import asyncio
import logging
from typing import Any

from ecs_scheduler.adapters.taskdefs import TaskDefinitionApi
from ecs_scheduler.core.taskdef import Registered, hash_of
from ecs_scheduler.model.aws import AwsScope
from ecs_scheduler.runtime.metrics import Metrics

logger = logging.getLogger(__name__)

CONCURRENCY = 2
"""Registrations (each a list, a few describes and maybe a register) in flight at once: they are
rare, and ECS's task definition APIs have small rate limits."""


class Registrar:
    def __init__(self, api: TaskDefinitionApi, metrics: Metrics) -> None:
        self._api = api
        self._metrics = metrics
        self._known: dict[tuple[AwsScope, str, str], str] = {}
        self._pending: dict[tuple[AwsScope, str, str], asyncio.Future[str]] = {}
        self._gate: asyncio.Semaphore | None = None

    async def resolve(
        self, *, scope: AwsScope, request: dict[str, Any], remembered: Registered | None
    ) -> Registered:
        """The revision for this registration request: the remembered one when its hash matches,
        else one found by its hash, else a new registration. Concurrent callers share one."""
        content_hash = hash_of(request)
        if remembered is not None and remembered.content_hash == content_hash:
            return remembered
        key = (scope, str(request["family"]), content_hash)
        if key in self._known:
            return Registered(self._known[key], content_hash)
        pending = self._pending.get(key)
        if pending is None:
            pending = self._pending[key] = asyncio.ensure_future(self._find_or_register(key, request))
            pending.add_done_callback(lambda _: self._pending.pop(key, None))
        return Registered(await asyncio.shield(pending), content_hash)

    async def _find_or_register(self, key: tuple[AwsScope, str, str], request: dict[str, Any]) -> str:
        scope, family, content_hash = key
        if self._gate is None:
            self._gate = asyncio.Semaphore(CONCURRENCY)
        async with self._gate:
            arn = await self._api.find(scope=scope, family=family, content_hash=content_hash)
            if arn is not None:
                self._metrics.task_definitions.labels("reused").inc()
            else:
                arn = await self._api.register(scope=scope, request=request)
                self._metrics.task_definitions.labels("registered").inc()
                logger.info("registered %s (content hash %s)", arn, content_hash)
        self._known[key] = arn
        return arn

    async def deregister_others(self, *, scope: AwsScope, family: str, keep: str | None) -> list[str]:
        """Deregister every ACTIVE revision of the family but `keep` (None: all of them)."""
        deregistered = []
        for arn in await self._api.active(scope=scope, family=family):
            if arn == keep:
                continue
            await self._api.deregister(scope=scope, arn=arn)
            self._metrics.task_definitions.labels("deregistered").inc()
            logger.info("deregistered %s", arn)
            deregistered.append(arn)
        self._known = {k: v for k, v in self._known.items() if v not in deregistered}
        return deregistered
