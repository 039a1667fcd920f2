"""Full garbage collections run in gaps between fires, never in the stretch that sends RunTasks."""

import asyncio
import gc
from collections.abc import Iterator

import pytest

from ecs_scheduler.runtime import collector as collector_module
from ecs_scheduler.runtime.collector import PacedCollector, collections_paused


@pytest.fixture(autouse=True)
def restore_gc() -> Iterator[None]:
    thresholds, enabled = gc.get_threshold(), gc.isenabled()
    yield
    gc.unfreeze()  # the collector froze this test process's objects
    gc.set_threshold(*thresholds)
    (gc.enable if enabled else gc.disable)()


@pytest.mark.parametrize("enabled_before", [True, False])
def test_collections_are_paused_inside_and_left_as_they_were_after(enabled_before: bool) -> None:
    (gc.enable if enabled_before else gc.disable)()
    with collections_paused():
        assert not gc.isenabled()
    assert gc.isenabled() is enabled_before


def test_collections_resume_after_an_error_inside() -> None:
    with pytest.raises(RuntimeError), collections_paused():
        raise RuntimeError("a fire failed")
    assert gc.isenabled()


class Probe:
    """What the collector sees of the scheduler (seconds to the next fire, in turn) and does."""

    def __init__(self, ahead: list[float | None]) -> None:
        self.ahead = ahead
        self.asked = 0
        self.collected_when_asked: list[int] = []

    def seconds_to_next_fire(self) -> float | None:
        value = self.ahead[min(self.asked, len(self.ahead) - 1)]
        self.asked += 1
        return value

    def collect(self) -> None:
        self.collected_when_asked.append(self.asked)


async def run_for(probe: Probe, seconds: float, *, survivors: int, **options: float) -> tuple[int, ...]:
    """Run a collector for `seconds` with `survivors` middle collections pending; return the
    oldest generation's threshold seen while it ran."""
    paced = PacedCollector(
        probe.seconds_to_next_fire, quiet_before_freeze=0.01, interval=0.02, collect=probe.collect, **options
    )
    real_count = gc.get_count
    collector_module.gc.get_count = lambda: (0, 0, survivors)  # type: ignore[assignment]
    try:
        task = asyncio.create_task(paced.run())
        await asyncio.sleep(seconds)
        seen = gc.get_threshold()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    finally:
        collector_module.gc.get_count = real_count  # type: ignore[assignment]
    return seen


@pytest.mark.parametrize(
    ("ahead", "expected_first_collection_after_asking"),
    [
        ([None], 1),  # nothing planned: collect at once
        ([5.0], 1),  # the next fire is far away
        ([0.05, 0.05, 0.05, 5.0], 4),  # fires close together: wait for the gap after them
        ([0.0, 0.0, 2.0], 3),  # firing right now: wait until it is done
    ],
)
def test_a_full_collection_waits_for_a_gap_between_fires(
    ahead: list[float | None], expected_first_collection_after_asking: int
) -> None:
    probe = Probe(ahead)
    asyncio.run(run_for(probe, 0.4, survivors=100, min_gap=0.25))
    # The first collection is the one before freezing the initial list; the paced ones follow.
    assert probe.collected_when_asked[0] == 0
    assert probe.collected_when_asked[1] == expected_first_collection_after_asking


def test_no_gap_for_too_long_collects_anyway() -> None:
    probe = Probe([0.01])  # a fire every 10 ms, forever
    asyncio.run(run_for(probe, 0.5, survivors=100, min_gap=0.25, longest_wait=0.1))
    assert len(probe.collected_when_asked) >= 2


def test_nothing_is_collected_while_few_objects_survive() -> None:
    probe = Probe([None])
    asyncio.run(run_for(probe, 0.3, survivors=0))
    assert probe.collected_when_asked == [0]  # only the one before freezing


def test_automatic_full_collections_are_off_while_running_and_back_after() -> None:
    before = gc.get_threshold()
    seen = asyncio.run(run_for(Probe([None]), 0.1, survivors=0))
    assert seen[:2] == before[:2]
    assert seen[2] > 10**6
    assert gc.get_threshold() == before
