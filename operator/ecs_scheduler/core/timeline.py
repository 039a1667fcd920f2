"""The single timeline of every job's next fire: instants in a heap, keys in a bucket per instant.

Thousands of jobs often share an instant (every minute at second 0): they share one heap entry,
so a burst pops one instant and walks its bucket instead of sifting the heap once per job.
Rescheduling or removing a job searches nothing: it bumps the job's version, and the stale
bucket entry is skipped when its instant comes. Any number of jobs costs O(log instants) per
new instant and O(1) per job.
"""

import heapq
import itertools
from datetime import datetime
from typing import Generic, TypeVar

K = TypeVar("K")

_COMPACT_ABOVE = 64
"""Below this many entries stale ones are never worth a rebuild."""


class Timeline(Generic[K]):
    """Next fire instants of many keys; at most one live entry per key."""

    def __init__(self) -> None:
        # POSIX timestamps of the buckets: floats compare in C without time zone arithmetic, and
        # resolve microseconds at today's timestamps, so their order is the instants' order.
        self._stamps: list[float] = []
        self._buckets: dict[float, tuple[datetime, list[tuple[K, int]]]] = {}
        self._entries = 0
        """Bucket entries, live or stale."""
        self._versions: dict[K, int] = {}
        self._planned: dict[K, datetime] = {}
        self._sequence = itertools.count()

    def __len__(self) -> int:
        return len(self._planned)

    def set(self, key: K, instant: datetime | None) -> None:
        """Plan `key` to fire at `instant`, replacing any earlier plan; None unplans it."""
        # Versions come from one counter so a key removed and added again never revives old entries.
        version = next(self._sequence)
        self._versions[key] = version
        if instant is None:
            self._planned.pop(key, None)
            return
        self._planned[key] = instant
        stamp = instant.timestamp()
        bucket = self._buckets.get(stamp)
        if bucket is None:
            bucket = self._buckets[stamp] = (instant, [])
            heapq.heappush(self._stamps, stamp)
        bucket[1].append((key, version))
        self._entries += 1
        self._compact_if_stale()

    def planned(self, key: K) -> datetime | None:
        return self._planned.get(key)

    def remove(self, key: K) -> None:
        self.set(key, None)
        self._versions.pop(key, None)

    def _live(self, key: K, version: int) -> bool:
        return self._versions.get(key) == version and key in self._planned

    def _compact_if_stale(self) -> None:
        # Frequent edits leave stale entries behind; rebuild before they dominate memory.
        if self._entries > _COMPACT_ABOVE and self._entries > 4 * len(self._planned):
            for stamp, (instant, entries) in list(self._buckets.items()):
                live = [entry for entry in entries if self._live(*entry)]
                if live:
                    self._buckets[stamp] = (instant, live)
                else:
                    del self._buckets[stamp]
            self._stamps = list(self._buckets)
            heapq.heapify(self._stamps)
            self._entries = sum(len(entries) for _, entries in self._buckets.values())

    def earliest(self) -> datetime | None:
        while self._stamps:
            stamp = self._stamps[0]
            instant, entries = self._buckets[stamp]
            if entries and self._live(*entries[0]):
                return instant
            live = [entry for entry in entries if self._live(*entry)]
            self._entries -= len(entries) - len(live)
            if live:
                self._buckets[stamp] = (instant, live)
                return instant
            heapq.heappop(self._stamps)
            del self._buckets[stamp]
        return None

    def pop_due(self, now: datetime) -> list[tuple[K, datetime]]:
        """Every key whose planned instant is at or before `now`, earliest first (keys of one
        instant in the order they were planned); they are unplanned."""
        due: list[tuple[K, datetime]] = []
        limit = now.timestamp()
        versions, planned = self._versions, self._planned
        while self._stamps and self._stamps[0] <= limit:
            instant, entries = self._buckets.pop(heapq.heappop(self._stamps))
            self._entries -= len(entries)
            for key, version in entries:
                # `_live`, inlined: this loop runs once per job of a burst, before its RunTask.
                if versions.get(key) == version and planned.pop(key, None) is not None:
                    due.append((key, instant))
        return due
