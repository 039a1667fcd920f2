"""Sleep until a timeout or until rung, whichever comes first.

`asyncio.wait_for(event.wait(), timeout)` does the same, but after its timeout it takes three
turns of the event loop to return (the timer cancels the inner task, the task raises, wait_for
turns that into TimeoutError), and background work queued meanwhile runs in every turn. Before
a burst of 1,000 fires that came to about 2 ms. Here the timer resolves the waiter directly.
"""

import asyncio


class Alarm:
    def __init__(self) -> None:
        self._rung = False
        self._waiter: asyncio.Future[None] | None = None

    def ring(self) -> None:
        """Wake the sleeper now, or make its next `sleep` return at once."""
        self._rung = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def reset(self) -> None:
        """Forget rings so far: the sleeper is about to look at everything they announced."""
        self._rung = False

    async def sleep(self, timeout: float | None) -> None:
        """Until rung since the last reset, or `timeout` seconds (None: no timeout)."""
        if self._rung:
            return
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        timer = None if timeout is None else loop.call_later(timeout, _resolve, waiter)
        try:
            await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
