"""The single timeline of every job's next fire: a heap with lazy invalidation.

Rescheduling or removing a job does not search the heap; it bumps the job's version and the
stale entry is skipped when it surfaces. Push and pop are O(log n) for any number of jobs.
"""

import heapq
import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

K = TypeVar("K")


@dataclass(order=True)
class _Entry(Generic[K]):
    instant: datetime
    sequence: int
    key: K = field(compare=False)
    version: int = field(compare=False)


class Timeline(Generic[K]):
    """Next fire instants of many keys; at most one live entry per key."""

    def __init__(self) -> None:
        self._heap: list[_Entry[K]] = []
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
        heapq.heappush(self._heap, _Entry(instant, version, key, version))
        self._compact_if_stale()

    def planned(self, key: K) -> datetime | None:
        return self._planned.get(key)

    def remove(self, key: K) -> None:
        self.set(key, None)
        self._versions.pop(key, None)

    def _live(self, entry: _Entry[K]) -> bool:
        return self._versions.get(entry.key) == entry.version and entry.key in self._planned

    def _drop_stale_head(self) -> None:
        while self._heap and not self._live(self._heap[0]):
            heapq.heappop(self._heap)

    def _compact_if_stale(self) -> None:
        # Frequent edits leave stale entries behind; rebuild before they dominate memory.
        if len(self._heap) > 64 and len(self._heap) > 4 * len(self._planned):
            self._heap = [e for e in self._heap if self._live(e)]
            heapq.heapify(self._heap)

    def earliest(self) -> datetime | None:
        self._drop_stale_head()
        return self._heap[0].instant if self._heap else None

    def pop_due(self, now: datetime) -> list[tuple[K, datetime]]:
        """Every key whose planned instant is at or before `now`, earliest first; they are unplanned."""
        due: list[tuple[K, datetime]] = []
        self._drop_stale_head()
        while self._heap and self._heap[0].instant <= now:
            entry = heapq.heappop(self._heap)
            if self._live(entry):
                del self._planned[entry.key]
                due.append((entry.key, entry.instant))
            self._drop_stale_head()
        return due
