"""The SQS scaling maths, as a table."""

import pytest

from ecs_scheduler.core.scaling import decide
from ecs_scheduler.model.spec import SqsTrigger
from ecs_scheduler.model.trigger import QueueDepth


def trigger(**fields: object) -> SqsTrigger:
    return SqsTrigger.model_validate({"type": "sqs", "queueName": "q", "messagesPerTask": 100, **fields})


@pytest.mark.parametrize(
    ("name", "fields", "depth", "task_count", "max_count", "running", "tasks"),
    [
        ("empty queue", {}, QueueDepth(0), 1, 50, 0, 0),
        ("one message", {}, QueueDepth(1), 1, 50, 0, 1),
        ("exactly one task's worth", {}, QueueDepth(100), 1, 50, 0, 1),
        ("one over", {}, QueueDepth(101), 1, 50, 0, 2),
        ("classic example", {}, QueueDepth(250), 1, 50, 0, 3),
        ("capped by maxCount", {}, QueueDepth(5000), 1, 10, 0, 10),
        ("capped at 50 whatever maxCount", {"messagesPerTask": 1}, QueueDepth(5000), 1, 50, 0, 50),
        ("taskCount is the floor", {}, QueueDepth(1), 4, 10, 0, 4),
        ("at the activation threshold", {"activationQueueLength": 5}, QueueDepth(5), 1, 50, 0, 0),
        ("above the activation threshold", {"activationQueueLength": 5}, QueueDepth(6), 1, 50, 0, 1),
        ("in-flight ignored by default", {}, QueueDepth(0, in_flight=500), 1, 50, 0, 0),
        ("in-flight counted", {"scaleOnInFlight": True}, QueueDepth(50, in_flight=200), 1, 50, 0, 3),
        ("delayed ignored by default", {}, QueueDepth(10, delayed=900), 1, 50, 0, 1),
        ("delayed counted", {"scaleOnDelayed": True}, QueueDepth(10, delayed=900), 1, 50, 0, 10),
        ("both counted", {"scaleOnDelayed": True, "scaleOnInFlight": True}, QueueDepth(1, 1, 1), 1, 50, 0, 1),
        ("accurate subtracts running", {"strategy": "Accurate"}, QueueDepth(500), 1, 50, 3, 2),
        ("accurate never negative", {"strategy": "Accurate"}, QueueDepth(500), 1, 50, 9, 0),
        ("default ignores running", {}, QueueDepth(500), 1, 50, 3, 5),
        ("accurate on empty queue", {"strategy": "Accurate"}, QueueDepth(0), 1, 50, 2, 0),
    ],
)
def test_tasks_for_depth(
    name: str,
    fields: dict[str, object],
    depth: QueueDepth,
    task_count: int,
    max_count: int,
    running: int,
    tasks: int,
) -> None:
    assert (
        decide(trigger(**fields), depth, task_count=task_count, max_count=max_count, running=running).tasks
        == tasks
    ), name


@pytest.mark.parametrize(
    ("fields", "depth", "running", "text"),
    [
        ({}, QueueDepth(250), 0, "depth 250, 100 per task -> 3 tasks"),
        ({}, QueueDepth(0), 0, "depth 0 -> no tasks"),
        ({"activationQueueLength": 10}, QueueDepth(3), 0, "depth 3 (activation at > 10) -> no tasks"),
        (
            {"strategy": "Accurate"},
            QueueDepth(250),
            1,
            "depth 250, 100 per task -> 3 tasks, 1 still running -> 2 tasks",
        ),
    ],
)
def test_decision_explains_itself(
    fields: dict[str, object], depth: QueueDepth, running: int, text: str
) -> None:
    assert decide(trigger(**fields), depth, task_count=1, max_count=50, running=running).explanation == text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"queueUrl": "http://x/q"}, "exactly one of queueName and queueUrl"),
        ({"queueName": None}, "exactly one of queueName and queueUrl"),
        ({"messagesPerTask": 0}, "greater than or equal to 1"),
        ({"strategy": "Eager"}, "'Default' or 'Accurate'"),
    ],
)
def test_invalid_triggers(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        trigger(**fields)
