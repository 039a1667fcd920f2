"""The scheduler's sleep: until its timeout, or until rung, whichever comes first."""

import asyncio
import time

import pytest

from ecs_scheduler.runtime.alarm import Alarm


async def slept(alarm: Alarm, timeout: float | None, *, ring_after: float | None = None) -> float:
    """Seconds `alarm.sleep(timeout)` took, ringing it after `ring_after` seconds if given."""
    if ring_after is not None:
        asyncio.get_running_loop().call_later(ring_after, alarm.ring)
    started = time.monotonic()
    await asyncio.wait_for(alarm.sleep(timeout), 5)
    return time.monotonic() - started


@pytest.mark.parametrize(
    ("timeout", "ring_after", "at_least", "below"),
    [
        (0.05, None, 0.05, 1.0),  # the timeout ends it
        (None, 0.05, 0.05, 1.0),  # no timeout: a ring ends it
        (10.0, 0.05, 0.05, 1.0),  # a ring before the timeout ends it early
        (0.0, None, 0.0, 1.0),  # a timeout of zero: just a turn of the loop
    ],
)
def test_sleep_ends_at_timeout_or_ring(
    timeout: float | None, ring_after: float | None, at_least: float, below: float
) -> None:
    took = asyncio.run(slept(Alarm(), timeout, ring_after=ring_after))
    assert at_least <= took < below


def test_a_ring_before_sleeping_is_not_lost_until_reset() -> None:
    async def scenario() -> tuple[float, float]:
        alarm = Alarm()
        alarm.ring()  # e.g. a job was planned while the scheduler was firing
        at_once = await slept(alarm, 10.0)
        alarm.reset()  # the scheduler looked at everything the ring announced
        after_reset = await slept(alarm, 0.05)
        return at_once, after_reset

    at_once, after_reset = asyncio.run(scenario())
    assert at_once < 1.0
    assert after_reset >= 0.05


def test_a_sleep_cut_short_leaves_no_timer_armed() -> None:
    async def scenario() -> list[asyncio.TimerHandle]:
        alarm = Alarm()
        await slept(alarm, 30.0, ring_after=0.01)
        scheduled: list[asyncio.TimerHandle] = asyncio.get_running_loop()._scheduled  # type: ignore[attr-defined]
        return [timer for timer in scheduled if not timer.cancelled()]

    # asyncio drops cancelled timers lazily; none may still be armed to fire in 30 s.
    assert asyncio.run(scenario()) == []
