"""Bookkeeping after RunTask waits its turn, so that in a burst every RunTask goes out first.

asyncio runs ready callbacks in order, with no priorities. Code that can wait (status patches,
Events, tracking) awaits `turn()`; each time round the event loop, only a few waiters are let
through, so the fires and RunTask sends queued meanwhile are never stuck behind thousands of
records being written.
"""

import asyncio
from collections import deque


class LowPriority:
    def __init__(self, per_turn: int = 8) -> None:
        self._per_turn = per_turn
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._release_scheduled = False

    async def turn(self) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._schedule_release()
        await waiter

    def _schedule_release(self) -> None:
        if not self._release_scheduled:
            self._release_scheduled = True
            asyncio.get_running_loop().call_soon(self._release)

    def _release(self) -> None:
        self._release_scheduled = False
        released = 0
        while self._waiters and released < self._per_turn:
            waiter = self._waiters.popleft()
            if not waiter.done():  # a cancelled waiter gives its place away
                waiter.set_result(None)
                released += 1
        if self._waiters:
            self._schedule_release()
