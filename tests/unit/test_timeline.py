"""The one timeline of next fires."""

from datetime import UTC, datetime, timedelta

from ecs_scheduler.core.timeline import Timeline

T0 = datetime(2026, 11, 22, tzinfo=UTC)


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_pops_due_keys_in_order() -> None:
    timeline: Timeline[str] = Timeline()
    timeline.set("b", at(2))
    timeline.set("a", at(1))
    timeline.set("c", at(3))
    assert timeline.earliest() == at(1)
    assert timeline.pop_due(at(2)) == [("a", at(1)), ("b", at(2))]
    assert timeline.earliest() == at(3)
    assert len(timeline) == 1


def test_rescheduling_replaces_the_old_plan() -> None:
    timeline: Timeline[str] = Timeline()
    timeline.set("a", at(1))
    timeline.set("a", at(5))
    assert timeline.pop_due(at(4)) == []
    assert timeline.pop_due(at(5)) == [("a", at(5))]


def test_removed_key_never_fires_even_if_added_back_later() -> None:
    timeline: Timeline[str] = Timeline()
    timeline.set("a", at(1))
    timeline.remove("a")
    assert timeline.earliest() is None
    timeline.set("a", at(3))
    assert timeline.pop_due(at(10)) == [("a", at(3))]


def test_unplanning_with_none() -> None:
    timeline: Timeline[str] = Timeline()
    timeline.set("a", at(1))
    timeline.set("a", None)
    assert timeline.pop_due(at(10)) == []
    assert timeline.planned("a") is None


def test_stale_entries_are_compacted() -> None:
    timeline: Timeline[str] = Timeline()
    for i in range(1000):
        timeline.set("a", at(i))
    assert timeline._entries <= 4 * len(timeline) + 65
    assert len(timeline._buckets) == len(timeline._stamps) <= 4 * len(timeline) + 65
    assert timeline.pop_due(at(2000)) == [("a", at(999))]


def test_keys_sharing_an_instant_come_out_in_planning_order_without_stale_ones() -> None:
    timeline: Timeline[str] = Timeline()
    for key in ("c", "a", "b", "d"):
        timeline.set(key, at(1))
    timeline.set("a", at(2))  # moved away: its entry at 1 is stale
    timeline.remove("d")
    assert timeline.earliest() == at(1)
    assert timeline.pop_due(at(1)) == [("c", at(1)), ("b", at(1))]
    assert timeline.earliest() == at(2)


def test_an_instant_whose_keys_all_moved_away_is_not_the_earliest() -> None:
    timeline: Timeline[str] = Timeline()
    timeline.set("a", at(1))
    timeline.set("b", at(1))
    timeline.set("a", at(5))
    timeline.set("b", None)
    assert timeline.earliest() == at(5)
    assert timeline.pop_due(at(4)) == []
