"""Launches waiting for the RunTask rate limit, shared fairly between namespaces across instants.

Fair queuing by namespace, as API Priority and Fairness shares seats between flows (start-time
fair queuing, every launch costing one): each namespace has a virtual clock that advances by one
per launch sent, and the next launch comes from the namespace whose clock is furthest behind. A
namespace that had nothing waiting starts at the queue's current virtual time, so it neither
waits behind another's backlog nor saves up credit while idle. So a namespace that asks for more
per minute than the account's budget builds a backlog of its own, and only it waits: another
namespace's job is sent within a turn or two, whatever instant the backlog is from. Within a
namespace, the earliest instant goes first (first come within one instant). Equal clocks go to
the namespace whose waiting launch is the earliest.

Pure: items are opaque; the caller says their instant and namespace.
"""

import heapq
import itertools
from datetime import datetime
from typing import Generic, TypeVar

T = TypeVar("T")


class LaunchQueue(Generic[T]):
    def __init__(self) -> None:
        self._waiting: dict[str, list[tuple[datetime, int, T]]] = {}
        """Per namespace with launches waiting: a heap by instant, then arrival."""
        self._turns: list[tuple[float, datetime, int, str]] = []
        """A heap of (virtual start, earliest instant, order, namespace); an entry whose order is
        not the namespace's current one is stale and skipped."""
        self._current: dict[str, int] = {}
        self._virtual: dict[str, float] = {}
        """The virtual time at which each namespace's next launch starts."""
        self._now = 0.0
        """The queue's virtual time: the start of the launch served last."""
        self._order = itertools.count()
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def push(self, instant: datetime, namespace: str, item: T) -> None:
        waiting = self._waiting.get(namespace)
        if waiting is None:
            waiting = self._waiting[namespace] = []
            self._virtual[namespace] = max(self._virtual.get(namespace, 0.0), self._now)
            if len(self._virtual) > 2 * len(self._waiting) + 64:
                self._forget_idle()
        earliest_before = waiting[0][0] if waiting else None
        heapq.heappush(waiting, (instant, next(self._order), item))
        self._size += 1
        if earliest_before is None or instant < earliest_before:
            self._schedule(namespace)

    def _schedule(self, namespace: str) -> None:
        order = next(self._order)
        self._current[namespace] = order
        heapq.heappush(
            self._turns, (self._virtual[namespace], self._waiting[namespace][0][0], order, namespace)
        )

    def pop(self) -> T:
        """The next launch: from the namespace furthest behind, its earliest instant."""
        while True:
            start, _, order, namespace = heapq.heappop(self._turns)
            if self._current.get(namespace) == order:
                break
        waiting = self._waiting[namespace]
        _, _, item = heapq.heappop(waiting)
        self._size -= 1
        self._now = start
        self._virtual[namespace] = start + 1.0
        if waiting:
            self._schedule(namespace)
        else:
            del self._waiting[namespace], self._current[namespace]
        if not self._size:
            self._now = start + 1.0  # idle: whoever comes next starts level with everyone served
        return item

    def _forget_idle(self) -> None:
        """Namespaces with nothing waiting whose clock is not ahead: they would start at the
        queue's virtual time anyway, so remembering them only costs memory."""
        for namespace in [n for n, v in self._virtual.items() if n not in self._waiting and v <= self._now]:
            del self._virtual[namespace]

    def earliest(self) -> datetime | None:
        """The earliest instant waiting in any namespace."""
        return min((waiting[0][0] for waiting in self._waiting.values()), default=None)

    def backlog(self) -> dict[str, int]:
        """Launches waiting, per namespace."""
        return {namespace: len(waiting) for namespace, waiting in self._waiting.items()}
