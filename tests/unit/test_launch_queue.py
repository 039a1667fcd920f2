"""The launch queue: namespaces share the rate fairly across instants (fair queuing); within a
namespace, the earliest instant first."""

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
        # Equal turns: the earlier instant goes first whatever arrived first.
        ([(5, "a", "late"), (0, "b", "early")], ["early", "late"]),
        # Within a namespace the earliest instant first; across namespaces turns, whatever the instant.
        ([(5, "a", "a5"), (0, "a", "a0"), (5, "b", "b5"), (0, "a", "a0'")], ["a0", "b5", "a0'", "a5"]),
        # A backlog of earlier instants does not hold back another namespace's later launch.
        ([(0, "big", "b0"), (0, "big", "b1"), (60, "big", "b60"), (120, "lone", "l120"), (60, "big", "b61")],
         ["b0", "l120", "b1", "b60", "b61"]),
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


def test_an_idle_namespace_neither_waits_behind_a_backlog_nor_saves_up_turns() -> None:
    queue: LaunchQueue[str] = LaunchQueue()
    for index in range(100):
        queue.push(T0, "big", f"b{index}")
    sent = [queue.pop() for _ in range(50)]  # 50 of big's launches went while "lone" was idle
    queue.push(T0 + timedelta(minutes=1), "lone", "l1")
    queue.push(T0 + timedelta(minutes=1), "lone", "l2")
    following = [queue.pop() for _ in range(6)]
    assert sent == [f"b{i}" for i in range(50)]
    # lone gets every other turn from now on, not 50 turns in a row for the time it was idle
    assert following == ["l1", "b50", "l2", "b51", "b52", "b53"]
    assert queue.backlog() == {"big": 46}


def test_memory_of_idle_namespaces_is_bounded() -> None:
    queue: LaunchQueue[str] = LaunchQueue()
    for index in range(1000):
        queue.push(T0, f"ns-{index}", "x")
        queue.pop()
    assert len(queue._virtual) < 200
