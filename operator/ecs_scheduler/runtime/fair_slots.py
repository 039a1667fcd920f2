"""Slots for deliveries in flight, shared fairly: a dead endpoint holds few, and namespaces take turns.

An endpoint that accepts a connection and never answers holds its delivery for the whole read
timeout. With one shared pool, a few such endpoints (one tenant's) held every slot and every
other namespace's deliveries waited behind them. Here a delivery needs a slot of the whole pool,
one of its namespace's and one of its destination's; when slots free up, the namespaces waiting
take turns (round robin), first come first served within a namespace.
"""

import asyncio
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass


@dataclass(frozen=True)
class SlotLimits:
    total: int = 32
    per_namespace: int = 4
    per_destination: int = 2


class FairSlots:
    def __init__(self, limits: SlotLimits = SlotLimits()) -> None:
        self._limits = limits
        self._busy = 0
        self._by_namespace: dict[str, int] = {}
        self._by_destination: dict[str, int] = {}
        self._waiting: OrderedDict[str, deque[tuple[str, asyncio.Future[None]]]] = OrderedDict()

    def _free(self, namespace: str, destination: str) -> bool:
        return (
            self._busy < self._limits.total
            and self._by_namespace.get(namespace, 0) < self._limits.per_namespace
            and self._by_destination.get(destination, 0) < self._limits.per_destination
        )

    def _take(self, namespace: str, destination: str) -> None:
        self._busy += 1
        self._by_namespace[namespace] = self._by_namespace.get(namespace, 0) + 1
        self._by_destination[destination] = self._by_destination.get(destination, 0) + 1

    def _give_back(self, namespace: str, destination: str) -> None:
        self._busy -= 1
        for counts, key in ((self._by_namespace, namespace), (self._by_destination, destination)):
            counts[key] -= 1
            if not counts[key]:
                del counts[key]

    @asynccontextmanager
    async def slot(self, namespace: str, destination: str) -> AsyncIterator[None]:
        """Hold a slot for one delivery from `namespace` to `destination` (a host, a topic)."""
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(namespace, deque()).append((destination, granted))
        self._grant()  # at once when nobody who could use the slot is ahead of it
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self._give_back(namespace, destination)  # granted just as it was cancelled
                self._grant()
            else:
                self._forget(namespace, destination, granted)
            raise
        try:
            yield
        finally:
            self._give_back(namespace, destination)
            self._grant()

    def _forget(self, namespace: str, destination: str, granted: asyncio.Future[None]) -> None:
        queue = self._waiting.get(namespace)
        if queue is not None:
            with suppress(ValueError):
                queue.remove((destination, granted))
            if not queue:
                del self._waiting[namespace]

    def _grant(self) -> None:
        """Hand freed slots to the waiting namespaces in turn."""
        progress = True
        while progress and self._waiting:
            progress = False
            for namespace in list(self._waiting):
                queue = self._waiting[namespace]
                index = next((i for i, (d, _) in enumerate(queue) if self._free(namespace, d)), None)
                if index is None:
                    continue
                destination, granted = queue[index]
                del queue[index]
                if not queue:
                    del self._waiting[namespace]
                else:
                    self._waiting.move_to_end(namespace)  # its next one waits for the others' turns
                self._take(namespace, destination)
                granted.set_result(None)
                progress = True
                break

    def in_flight(self) -> int:
        return self._busy
