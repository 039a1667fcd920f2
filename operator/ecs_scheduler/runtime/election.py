"""One active replica: hold a Lease, renew it, and step down before it can expire."""

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from ecs_scheduler.adapters.lease import LeaseApi
from ecs_scheduler.core.leadership import LeaseRecord, lease_action, lease_body
from ecs_scheduler.runtime.clock import Clock

logger = logging.getLogger(__name__)

STANDBY_RETRY = 0.5
"""Seconds between a standby's looks at the Lease (one GET each): the most a released lease waits."""


class LeaderElector:
    def __init__(
        self,
        api: LeaseApi,
        *,
        namespace: str,
        name: str,
        identity: str,
        duration: float,
        retry: float,
        clock: Clock,
    ) -> None:
        self._api = api
        self._namespace = namespace
        self._name = name
        self._identity = identity
        self._duration = duration
        self._retry = retry
        # Like client-go: give up renewing well before the lease runs out for the others.
        self._renew_deadline = duration * 2 / 3
        self._clock = clock
        self._seen: tuple[str | None, str | None] | None = None
        self._observed_at: datetime | None = None
        self._someone_else = False
        self._leading = False
        # A standby looks more often than the leader renews: after a release (a graceful stop of
        # the leader) the gap until it takes over is at most this.
        self._standby_retry = min(retry, STANDBY_RETRY)

    async def _attempt(self) -> bool:
        """One round: True when this replica holds the lease afterwards."""
        raw = await self._api.read(self._namespace, self._name)
        now = self._clock.now()
        record = LeaseRecord.from_object(raw) if raw is not None else None
        if record is not None and record.version != self._seen:
            self._seen, self._observed_at = record.version, now
        action = lease_action(record, me=self._identity, observed_at=self._observed_at, now=now)
        self._someone_else = action == "Wait"
        if action == "Wait":
            return False
        body = lease_body(
            record,
            action=action,
            me=self._identity,
            duration_seconds=self._duration,
            now=now,
            name=self._name,
        )
        if action == "Create":
            return await self._api.create(self._namespace, body)
        if action == "TakeOver":
            logger.info(
                "taking over lease %s/%s from %s", self._namespace, self._name, record and record.holder
            )
        return await self._api.replace(self._namespace, self._name, body)

    async def release(self) -> None:
        """Give the lease up on a graceful stop (after the last launch was recorded), so a standby
        takes over at its next look rather than after a whole lease duration. Only a lease this
        replica holds is touched; failing to release only means the standby waits it out."""
        if not self._leading:
            return
        try:
            raw = await self._api.read(self._namespace, self._name)
            record = LeaseRecord.from_object(raw) if raw is not None else None
            if record is None or record.holder != self._identity:
                return
            body = lease_body(record, action="Release", me=self._identity, duration_seconds=self._duration,
                              now=self._clock.now(), name=self._name)  # fmt: skip
            if await self._api.replace(self._namespace, self._name, body):
                logger.info("released lease %s/%s", self._namespace, self._name)
        except Exception as error:
            logger.warning("could not release lease %s/%s: %s", self._namespace, self._name, error)

    async def run(self, on_started: Callable[[], None], on_lost: Callable[[], None]) -> None:
        """Campaign until elected, then renew; call on_lost (and return) if renewal fails."""
        leading = False
        renewed: datetime | None = None
        while True:
            try:
                held = await self._attempt()
            except Exception as error:  # the API server may be briefly unreachable
                logger.warning("lease %s/%s: %s", self._namespace, self._name, error)
                held = False
            now = self._clock.now()
            if held:
                renewed = now
                if not leading:
                    leading = self._leading = True
                    logger.info("leading as %s (lease %s/%s)", self._identity, self._namespace, self._name)
                    on_started()
            elif leading and (
                self._someone_else
                or renewed is None
                or (now - renewed).total_seconds() > self._renew_deadline
            ):
                logger.error("lost lease %s/%s: stepping down", self._namespace, self._name)
                self._leading = False
                on_lost()
                return
            await asyncio.sleep(self._retry if leading else self._standby_retry)
