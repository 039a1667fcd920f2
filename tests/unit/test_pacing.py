"""Pacing of one ECS API: ECS's bucket shape, halved on a throttle, climbing back without."""

import pytest

from ecs_scheduler.core.pacing import (
    CEILING_FLOOR,
    CEILING_STEP,
    MARGIN_MAX,
    MARGIN_SECONDS,
    QUIET_SECONDS,
    RECOVERY_SECONDS,
    Pacer,
)


def sent_within(pacer: Pacer, seconds: float, step: float = 0.01) -> int:
    """Calls a greedy sender gets through in `seconds` (from t=0)."""
    sent, now = 0, 0.0
    while now < seconds:
        while pacer.take(now):
            sent += 1
        now += step
    return sent


@pytest.mark.parametrize(
    ("rate", "burst", "seconds", "expected"), [(40, 100, 10, 500), (20, 50, 5, 150), (1, 1, 3, 4)]
)
def test_a_greedy_sender_gets_the_burst_and_then_the_rate(
    rate: float, burst: float, seconds: float, expected: int
) -> None:
    assert abs(sent_within(Pacer(rate=rate, burst=burst, margin=0), seconds) - expected) <= 1


def test_the_margin_shifts_calls_later_once_without_slowing_the_pace() -> None:
    held_back = 40 * MARGIN_SECONDS
    first_burst = sent_within(Pacer(rate=40, burst=100), 0.005)
    assert first_burst == sent_within(Pacer(rate=40, burst=100, margin=0), 0.005) - held_back
    for seconds in (10, 20):  # held back by the same few calls, however long: the pace is the same
        lag = sent_within(Pacer(rate=40, burst=100, margin=0), seconds) - sent_within(
            Pacer(rate=40, burst=100), seconds
        )
        assert lag == pytest.approx(held_back, abs=1)
    assert Pacer(rate=1, burst=1).take(0.0)  # no room for a margin in a bucket of one


def test_a_throttle_halves_the_rate_and_empties_the_bucket() -> None:
    pacer = Pacer(rate=40, burst=100)
    assert pacer.throttled(10.0)
    assert pacer.current_rate == 20
    assert not pacer.take(10.0)
    # ... and sends with twice the margin: arrivals at the limit came bunched
    assert pacer.wait(10.0) == pytest.approx(1 / 20 + 2 * MARGIN_SECONDS, rel=0.05)


def test_throttles_within_the_cooldown_count_once() -> None:
    pacer = Pacer(rate=40, burst=100)
    assert pacer.throttled(10.0)
    assert not pacer.throttled(10.5)  # in-flight calls of the same moment
    assert pacer.current_rate == 20
    assert pacer.throttled(11.2)
    assert pacer.current_rate == pytest.approx((20 + 1.2 * 40 / RECOVERY_SECONDS) / 2)  # climbed, then halved


def test_the_rate_climbs_back_a_little_under_the_limit_then_to_it_after_a_quiet_spell() -> None:
    pacer = Pacer(rate=40, burst=100)
    pacer.throttled(0.0)
    now = 0.0
    while now < RECOVERY_SECONDS / 4:  # a quarter of the way: 20 + 10
        now += 0.5
        pacer.wait(now)
    assert pacer.current_rate == pytest.approx(30, abs=1)
    while now < RECOVERY_SECONDS * 2:
        now += 0.5
        pacer.wait(now)
    assert pacer.current_rate == 40 * CEILING_STEP  # a little under the bucket while throttles are recent
    while now < QUIET_SECONDS + 1:
        now += 0.5
        pacer.wait(now)
    assert pacer.current_rate == 40 and pacer.margin == MARGIN_SECONDS  # given back, never above


def test_repeated_throttles_keep_the_sustained_rate() -> None:
    pacer = Pacer(rate=40, burst=100)
    for second in range(0, 600, 5):  # a throttle every 5 s for 10 minutes
        pacer.throttled(float(second))
    assert pacer.ceiling == 40 * CEILING_FLOOR and pacer.margin == MARGIN_MAX


def test_never_below_the_floor() -> None:
    pacer = Pacer(rate=40, burst=100, floor=0.5)
    for second in range(20):
        pacer.throttled(float(second * 2))
    assert pacer.current_rate >= 0.5
