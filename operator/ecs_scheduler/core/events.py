"""Which Events to write, and when: repeated Normal events become a count on one Event.

The design is client-go's events library (k8s.io/client-go/tools/events): the first occurrence
of a Normal event for an object and reason creates an Event; later ones only count, in memory,
and the Event's count, last time and latest message are written at most every `refresh`
seconds. A series no one added to for `refresh` seconds is closed after its last write, and the
next occurrence starts a new Event. Warnings are never aggregated: each is its own Event.

Every write (create or count) takes a token from a budget, as client-go's recorder is rate
limited. Over budget, Warnings wait first in line and are never dropped; a new Normal series
keeps counting and is created later, with its real first time and its count so far. So the
first minute after a start, when every job's first fire opens two series, is spread out
instead of costing thousands of Event writes at once.
"""

from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from ecs_scheduler.core.buckets import TokenBucket
from ecs_scheduler.core.plan import JobIdentity
from ecs_scheduler.core.status import iso
from ecs_scheduler.model import names

EventType = Literal["Normal", "Warning"]
MESSAGE_LIMIT = 1024
"""Kubernetes rejects Event messages longer than this."""


@dataclass(frozen=True)
class SeriesKey:
    namespace: str
    name: str
    uid: str
    reason: str
    kind: str = names.KIND


@dataclass
class Series:
    """One Event object that counts the occurrences of a Normal event."""

    key: SeriesKey
    event_name: str
    message: str
    first: datetime
    last: datetime
    count: int = 1
    written_count: int = 0
    """The count the Event shows (0: not created yet)."""
    written_at: datetime | None = None

    @property
    def created(self) -> bool:
        return self.written_count > 0

    @property
    def unwritten(self) -> bool:
        return self.count != self.written_count


@dataclass(frozen=True)
class Post:
    """Create this Event now."""

    namespace: str
    body: dict[str, Any]


class Correlator:
    def __init__(self, *, refresh: float, budget: TokenBucket, component: str) -> None:
        self._refresh = refresh
        self._budget = budget
        self._component = component
        self._series: dict[SeriesKey, Series] = {}
        self._warnings: deque[Post] = deque()

    def __len__(self) -> int:
        return len(self._series)

    def _token(self, now: datetime) -> bool:
        return self._budget.try_take(now.timestamp())

    def occurred(
        self, job: JobIdentity, type_: EventType, reason: str, message: str, *, now: datetime, event_name: str
    ) -> Post | None:
        """An event happened: the Event to create now, or None (counted, or waiting for budget)."""
        message = message[:MESSAGE_LIMIT]
        if type_ == "Warning":
            post = Post(
                job.namespace,
                self._body(job, type_, reason, message, first=now, last=now, count=1, name=event_name),
            )
            if not self._warnings and self._token(now):
                return post
            self._warnings.append(post)
            return None
        key = SeriesKey(job.namespace, job.name, job.uid, reason, job.kind)
        series = self._series.get(key)
        if series is not None:
            series.count += 1
            series.last, series.message = now, message
            return None
        series = self._series[key] = Series(key, event_name, message, first=now, last=now)
        return self._create(series, now) if self._token(now) else None

    def _create(self, series: Series, now: datetime) -> Post:
        series.written_count, series.written_at = series.count, now
        key = series.key
        job = JobIdentity(key.namespace, key.name, key.uid, kind=key.kind)
        body = self._body(job, "Normal", key.reason, series.message, first=series.first, last=series.last,
                          count=series.count, name=series.event_name)  # fmt: skip
        return Post(key.namespace, body)

    def due(self, now: datetime) -> list[Post | Series]:
        """What to write now, within the budget: waiting Warnings, then series not yet created,
        then series counts at least `refresh` old. Idle, fully written series are closed."""
        writes: list[Post | Series] = []
        while self._warnings and self._token(now):
            writes.append(self._warnings.popleft())
        for key, series in list(self._series.items()):
            if not series.created:
                if not self._warnings and self._token(now):
                    writes.append(self._create(series, now))
                continue
            assert series.written_at is not None
            if (now - series.written_at).total_seconds() < self._refresh:
                continue
            if series.unwritten:
                if self._token(now):
                    writes.append(series)
            elif (now - series.last).total_seconds() >= self._refresh:
                del self._series[key]  # idle and fully written: the next occurrence starts anew
        return writes

    def written(self, series: Series, count: int, now: datetime) -> None:
        series.written_count, series.written_at = count, now

    def lost(self, series: Series) -> None:
        """The Event is gone (expired by the API server's event TTL): start a new series."""
        self._series.pop(series.key, None)

    def forget(self, namespace: str, name: str) -> None:
        """The job was deleted: its series end without a last write."""
        for key in [k for k in self._series if (k.namespace, k.name) == (namespace, name)]:
            del self._series[key]

    def all_unwritten(self, now: datetime) -> list[Post | Series]:
        """For shutdown, whatever the budget: every Warning and count not yet written."""
        writes: list[Post | Series] = list(self._warnings)
        self._warnings.clear()
        for series in self._series.values():
            if not series.created:
                writes.append(self._create(series, now))
            elif series.unwritten:
                writes.append(series)
        return writes

    def _body(
        self, job: JobIdentity, type_: EventType, reason: str, message: str, *,
        first: datetime, last: datetime, count: int, name: str,
    ) -> dict[str, Any]:  # fmt: skip
        return {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"namespace": job.namespace, "name": name},
            "involvedObject": {
                "apiVersion": f"{names.GROUP}/{names.VERSION}",
                "kind": job.kind,
                "namespace": job.namespace,
                "name": job.name,
                "uid": job.uid,
            },
            "type": type_,
            "reason": reason,
            "message": message,
            "source": {"component": self._component},
            "reportingComponent": self._component,
            "reportingInstance": self._component,
            "firstTimestamp": iso(first),
            "lastTimestamp": iso(last),
            "count": count,
        }


def series_patch(series: Series) -> dict[str, Any]:
    """The merge patch that brings a series' Event up to date."""
    return {"count": series.count, "lastTimestamp": iso(series.last), "message": series.message}
