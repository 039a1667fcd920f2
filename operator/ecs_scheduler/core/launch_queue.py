"""Launches waiting for the RunTask rate limit: earliest scheduled instant first, and within one
instant the namespaces take turns (round robin), so one namespace's thousands of jobs on
`0 * * * *` cannot push another namespace's single job to the back.

Pure: items are opaque; the caller says their instant and namespace.
"""

import heapq
from collections import OrderedDict, deque
from datetime import datetime
from typing import Generic, TypeVar

T = TypeVar("T")


class LaunchQueue(Generic[T]):
    def __init__(self) -> None:
        self._instants: list[datetime] = []
        """A heap of the instants that have waiting items."""
        self._waiting: dict[datetime, OrderedDict[str, deque[T]]] = {}
        """Per instant, per namespace in turn order, the items in arrival order."""
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def push(self, instant: datetime, namespace: str, item: T) -> None:
        turns = self._waiting.get(instant)
        if turns is None:
            turns = self._waiting[instant] = OrderedDict()
            heapq.heappush(self._instants, instant)
        turns.setdefault(namespace, deque()).append(item)
        self._size += 1

    def pop(self) -> T:
        """The next item: of the earliest instant, from the namespace whose turn it is."""
        instant = self._instants[0]
        turns = self._waiting[instant]
        namespace, items = next(iter(turns.items()))
        item = items.popleft()
        if items:
            turns.move_to_end(namespace)  # its next item waits for every other namespace's turn
        else:
            del turns[namespace]
        if not turns:
            heapq.heappop(self._instants)
            del self._waiting[instant]
        self._size -= 1
        return item

    def earliest(self) -> datetime | None:
        return self._instants[0] if self._instants else None
