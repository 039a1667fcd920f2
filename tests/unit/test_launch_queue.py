"""The launch queue: earliest instant first, namespaces taking turns within an instant."""

from datetime import UTC, datetime, timedelta

import pytest

from ecs_scheduler.core.launch_queue import LaunchQueue

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def drained(pushed: list[tuple[int, str, str]]) -> list[str]:
    queue: LaunchQueue[str] = LaunchQueue()
    for seconds, namespace, item in pushed:
        queue.push(T0 + timedelta(seconds=seconds), namespace, item)
    order = []
    while queue:
        order.append(queue.pop())
    return order


@pytest.mark.parametrize(
    ("pushed", "expected"),
    [
        ([(0, "a", "a1"), (0, "a", "a2")], ["a1", "a2"]),
        # One namespace's burst does not push another's single job to the back.
        ([(0, "bulk", "b1"), (0, "bulk", "b2"), (0, "bulk", "b3"), (0, "lone", "l1")], ["b1", "l1", "b2", "b3"]),
        ([(0, "a", "a1"), (0, "a", "a2"), (0, "b", "b1"), (0, "b", "b2"), (0, "c", "c1")],
         ["a1", "b1", "c1", "a2", "b2"]),
        # An earlier instant goes first whatever arrived first.
        ([(5, "a", "late"), (0, "b", "early")], ["early", "late"]),
        ([(5, "a", "a5"), (0, "a", "a0"), (5, "b", "b5"), (0, "a", "a0'")], ["a0", "a0'", "a5", "b5"]),
    ],
)  # fmt: skip
def test_drain_order(pushed: list[tuple[int, str, str]], expected: list[str]) -> None:
    assert drained(pushed) == expected


def test_length_and_earliest_follow_pushes_and_pops() -> None:
    queue: LaunchQueue[str] = LaunchQueue()
    assert len(queue) == 0 and queue.earliest() is None
    queue.push(T0 + timedelta(seconds=3), "a", "x")
    queue.push(T0, "b", "y")
    assert len(queue) == 2 and queue.earliest() == T0
    assert queue.pop() == "y"
    assert len(queue) == 1 and queue.earliest() == T0 + timedelta(seconds=3)
