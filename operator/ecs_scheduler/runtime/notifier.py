"""Run notifications, at least once: owed in status first, delivered in the background.

When a run ends, what each target is owed goes into the same status write as the run's record
(status.owedNotifications, with the exact CloudEvent). A delivery removes its entry; a failed
one is tried again with backoff (core.notify); a restart or a new leader reads the entries back
and carries on. Deliveries run as background tasks with their own slots (shared fairly between namespaces and
destinations: runtime.fair_slots) and their own threads: a notification never delays a fire,
and a tenant's dead endpoint never delays another tenant's notifications.
"""

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ecs_scheduler.adapters.notify import DeliveryFailed, NotificationSender, Outgoing
from ecs_scheduler.core.notify import MAX_OWED, cloud_event, next_attempt, wanted
from ecs_scheduler.core.status import iso_precise, parse_instant
from ecs_scheduler.model.job import JobKey
from ecs_scheduler.model.notify import NotificationTarget
from ecs_scheduler.model.status import NotificationDelivery, OwedNotification
from ecs_scheduler.runtime.background import Background
from ecs_scheduler.runtime.clock import Clock
from ecs_scheduler.runtime.fair_slots import FairSlots
from ecs_scheduler.runtime.jobs import JobState, Reporter
from ecs_scheduler.runtime.metrics import Metrics

logger = logging.getLogger(__name__)


def _readable(
    entries: Sequence[Any], model: type[OwedNotification] | type[NotificationDelivery]
) -> list[dict[str, Any]]:
    kept = []
    for entry in entries:
        try:
            model.model_validate(entry)
        except ValueError:
            logger.warning("ignoring an unreadable %s entry in status: %r", model.__name__, entry)
            continue
        kept.append(dict(entry))
    return kept


class Notifier:
    def __init__(
        self,
        sender: NotificationSender | None,
        *,
        reporter: Reporter,
        clock: Clock,
        metrics: Metrics,
        background: Background,
        jobs: Mapping[JobKey, JobState],
    ) -> None:
        self._sender = sender
        self._report = reporter
        self._clock = clock
        self._metrics = metrics
        self._background = background
        self._jobs = jobs
        self._slots = FairSlots()
        self._delivering: dict[JobKey, asyncio.Event] = {}

    def owe(
        self, state: JobState, record: Mapping[str, Any], *, run: str, tasks: Sequence[Mapping[str, Any]] = ()
    ) -> dict[str, Any]:
        """Owe `record` (a status.history entry's shape) to the job's targets that want its
        outcome; the status patch that remembers it (empty: nothing owed)."""
        targets = wanted(state.job.spec.notifications, record["outcome"]) if state.job else []
        if not targets or self._sender is None:
            return {}
        now = self._clock.now()
        event = cloud_event(state.identity, record, run=run, now=now, tasks=tasks)
        for target in targets:
            state.facts.owed.append(
                {
                    "type": target.kind,
                    "target": target.address,
                    "eventId": event.id,
                    "payload": event.payload,
                    "attempts": 0,
                    "nextAttempt": iso_precise(now),
                }
            )
        while len(state.facts.owed) > MAX_OWED:
            dropped = state.facts.owed.pop(0)
            self._settle(
                state, dropped, "Abandoned", f"more than {MAX_OWED} notifications owed; oldest dropped"
            )
        self.wake(state.key)
        return self.patch(state)

    def patch(self, state: JobState) -> dict[str, Any]:
        return {"owedNotifications": list(state.facts.owed), "notifications": list(state.facts.deliveries)}

    def resume(self, state: JobState, status: Mapping[str, Any]) -> None:
        """First sight of a job in this process: pick up what its status says is owed."""
        state.facts.owed = _readable(status.get("owedNotifications") or [], OwedNotification)
        state.facts.deliveries = _readable(status.get("notifications") or [], NotificationDelivery)
        if state.facts.owed:
            self.wake(state.key)

    def wake(self, key: JobKey) -> None:
        """Something became owed: deliver it now (one delivering task per job)."""
        if self._sender is None:
            return
        if key in self._delivering:
            self._delivering[key].set()
            return
        self._delivering[key] = asyncio.Event()
        self._background.spawn(self._deliver(key), name=f"notify:{key}", daemon=True)

    async def _deliver(self, key: JobKey) -> None:
        woken = self._delivering[key]
        try:
            while (state := self._jobs.get(key)) is not None and state.facts.owed:
                now = self._clock.now()
                due = [e for e in state.facts.owed if _when(e) <= now]
                if not due:
                    earliest = min(_when(e) for e in state.facts.owed)
                    woken.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(woken.wait(), max(0.05, (earliest - now).total_seconds()))
                    continue
                for entry in due:
                    async with self._slots.slot(key.namespace, _destination(entry)):
                        await self._attempt(state, entry)
                self._report.write(key, self.patch(state))
        finally:
            del self._delivering[key]

    async def _attempt(self, state: JobState, entry: dict[str, Any]) -> None:
        target = _target(state, entry)
        if target is None:  # removed from the spec (or the job became invalid): nothing to send to
            state.facts.owed.remove(entry)
            logger.info("%s: dropping a notification for %s, no longer a target", state.key, entry["target"])
            return
        assert self._sender is not None
        outgoing = Outgoing(state.key.namespace, str(state.key), entry["eventId"], entry["payload"])
        try:
            await self._sender.send(target, scope=state.scope, outgoing=outgoing)
        except DeliveryFailed as error:
            entry["attempts"] = int(entry.get("attempts", 0)) + 1
            retry_at = None if error.final else next_attempt(entry["attempts"], self._clock.now())
            self._metrics.notifications.labels(target.kind, "failed").inc()
            if retry_at is None:
                state.facts.owed.remove(entry)
                self._settle(state, entry, "Abandoned", str(error))
                return
            entry["nextAttempt"] = iso_precise(retry_at)
            self._record_delivery(state, entry, "Failed", str(error))
            if error.warn:
                self._report.event(
                    state,
                    "Warning",
                    "NotificationFailed",
                    f"{entry['type']} {entry['target']}: attempt {entry['attempts']} of event "
                    f"{entry['eventId']} failed, retried at {entry['nextAttempt']}: {error}",
                )
            return
        state.facts.owed.remove(entry)
        self._metrics.notifications.labels(target.kind, "sent").inc()
        self._record_delivery(state, entry, "Delivered", None)

    def _settle(self, state: JobState, entry: dict[str, Any], outcome: str, error: str) -> None:
        """Give up on an entry: said in status, counted, and a Warning event."""
        self._metrics.notifications.labels(entry["type"], "abandoned").inc()
        self._record_delivery(state, entry, outcome, error)
        self._report.event(
            state,
            "Warning",
            "NotificationFailed",
            f"{entry['type']} {entry['target']}: gave up on event {entry['eventId']} after "
            f"{entry.get('attempts', 0)} attempt(s): {error}",
        )

    def _record_delivery(
        self, state: JobState, entry: dict[str, Any], outcome: str, error: str | None
    ) -> None:
        delivery = {
            "type": entry["type"],
            "target": entry["target"],
            "time": iso_precise(self._clock.now()),
            "outcome": outcome,
            "eventId": entry["eventId"],
        }
        if error:
            delivery["error"] = error[:1000]
        current = {(t.kind, t.address) for t in state.job.spec.notifications} if state.job else set()
        state.facts.deliveries = [
            d
            for d in state.facts.deliveries
            if (d["type"], d["target"]) != (entry["type"], entry["target"])
            and (d["type"], d["target"]) in current
        ] + [delivery]

    async def close(self) -> None:
        if self._sender is not None:
            await self._sender.close()


def _when(entry: Mapping[str, Any]) -> datetime:
    instant = parse_instant(entry.get("nextAttempt"))
    assert instant is not None, "entries are validated when read from status"
    return instant


def _destination(entry: Mapping[str, Any]) -> str:
    """What a delivery's slot is counted against: a webhook's host and port, else the topic or queue."""
    address = str(entry["target"])
    if entry["type"] == "webhook":
        return "webhook:" + address.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
    return f"{entry['type']}:{address}"


def _target(state: JobState, entry: Mapping[str, Any]) -> NotificationTarget | None:
    if state.job is None:
        return None
    for target in state.job.spec.notifications:
        if target.kind == entry["type"] and target.address == entry["target"]:
            return target
    return None
