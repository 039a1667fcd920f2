"""The cyclic garbage collector, kept out of the way of fires.

CPython starts a full collection whenever enough objects have survived into the oldest
generation. With 10,000 jobs one takes 30-300 ms, and when it lands just before a burst every
RunTask of that second waits for it. So: once the initial list is in, everything loaded so far
is frozen out of the collector's reach (gc.freeze), automatic full collections are turned off,
and a full collection runs at most every `interval` seconds, when as many middle-generation
collections have passed as would have started one, in a gap between fires. Young
collections stay automatic: they are short, but not free (a few ms at 10,000 jobs), so the
stretch that sends a burst's RunTasks runs with them paused.
"""

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Callable, Iterator

logger = logging.getLogger(__name__)

_NEVER = 2**30
"""A threshold for the oldest generation that is never reached: no automatic full collection."""


class PacedCollector:
    def __init__(
        self,
        seconds_to_next_fire: Callable[[], float | None],
        *,
        quiet_before_freeze: float = 2.0,
        interval: float = 30.0,
        min_gap: float = 0.25,
        longest_wait: float = 300.0,
        collect: Callable[[], object] = gc.collect,
    ) -> None:
        self._seconds_to_next_fire = seconds_to_next_fire
        self._quiet_before_freeze = quiet_before_freeze
        self._interval = interval
        self._min_gap = min_gap
        self._longest_wait = longest_wait
        self._collect = collect
        self._gap = min_gap
        self._last_observed = time.monotonic()
        self._listed = False
        self.collections = 0

    def observed(self) -> None:
        """A watch event arrived: the initial list may still be coming in."""
        self._last_observed = time.monotonic()

    def listing_over(self) -> None:
        """The initial list has been handed over (kopf's first event that is not a listing)."""
        self._listed = True

    async def run(self) -> None:
        await self._freeze_after_initial_list()
        young, middle, oldest = gc.get_threshold()
        gc.set_threshold(young, middle, _NEVER)
        try:
            while True:
                await asyncio.sleep(self._interval)
                # As CPython would: only after `oldest` middle collections. When idle, none come.
                if gc.get_count()[2] >= oldest:
                    await self._wait_for_gap()
                    self._collect_now()
        finally:
            gc.set_threshold(young, middle, oldest)

    async def _freeze_after_initial_list(self) -> None:
        """Once the initial list is in (or no watch event came for a while, with few jobs),
        move every object made so far out of the collector's reach: the jobs loaded at start
        would otherwise be scanned by every full collection. With thousands of jobs the watch
        stream is never quiet for long, so the listing's end is the signal that counts."""
        # Polls what observed() and listing_over() set: cheaper than signalling on every event.
        while not self._listed and time.monotonic() - self._last_observed < self._quiet_before_freeze:  # noqa: ASYNC110
            await asyncio.sleep(self._quiet_before_freeze / 4)
        self._collect_now()
        gc.freeze()
        logger.info("initial list settled; %d objects frozen", gc.get_freeze_count())

    async def _wait_for_gap(self) -> None:
        """Until the next fire is far enough away for a collection to end before it; at most
        `longest_wait` seconds, so memory held in cycles is freed even when fires never pause."""
        waited = 0.0
        while waited < self._longest_wait:
            ahead = self._seconds_to_next_fire()
            if ahead is None or ahead >= self._gap:
                return
            # Right after the next fire the gap to the one after is usually wide.
            pause = max(0.01, ahead + 0.01)
            await asyncio.sleep(pause)
            waited += pause
        logger.info("no gap of %.2f s between fires for %.0f s; collecting anyway", self._gap, waited)

    def _collect_now(self) -> None:
        started = time.perf_counter()
        self._collect()
        took = time.perf_counter() - started
        self.collections += 1
        # Ask for a gap twice as long as the last collection took: collections grow with jobs.
        self._gap = max(self._min_gap, 2 * took)
        logger.debug("full garbage collection took %.1f ms", took * 1000)


@contextlib.contextmanager
def collections_paused() -> Iterator[None]:
    """No automatic collection inside: for a short synchronous stretch that must not stall.
    Whatever collection came due meanwhile runs at the first allocation after it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
