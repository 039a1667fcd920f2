"""How many tasks a queue needs: pure functions, table-tested.

count = 0 when depth <= activationQueueLength, else
        min(maxCount, max(taskCount, ceil(depth / messagesPerTask)));
with strategy Accurate, minus this job's tasks still PENDING or RUNNING (never below 0).
"""

import math
from dataclasses import dataclass

from ecs_scheduler.model.spec import MAX_TASKS_PER_FIRE, SqsTrigger
from ecs_scheduler.model.trigger import QueueDepth


@dataclass(frozen=True)
class ScalingDecision:
    depth: int
    tasks: int
    explanation: str


def counted_depth(trigger: SqsTrigger, measured: QueueDepth) -> int:
    """The depth the trigger scales on: visible, plus in-flight and delayed when asked."""
    depth = measured.visible
    if trigger.scale_on_in_flight:
        depth += measured.in_flight
    if trigger.scale_on_delayed:
        depth += measured.delayed
    return depth


def decide(
    trigger: SqsTrigger, measured: QueueDepth, *, task_count: int, max_count: int, running: int = 0
) -> ScalingDecision:
    """Tasks to start for this check, with a one-line explanation for status.lastDecision."""
    depth = counted_depth(trigger, measured)
    if depth <= trigger.activation_queue_length:
        threshold = (
            f" (activation at > {trigger.activation_queue_length})" if trigger.activation_queue_length else ""
        )
        return ScalingDecision(depth, 0, f"depth {depth}{threshold} -> no tasks")
    cap = min(max_count, MAX_TASKS_PER_FIRE)
    wanted = min(cap, max(task_count, math.ceil(depth / trigger.messages_per_task)))
    explanation = f"depth {depth}, {trigger.messages_per_task} per task -> {wanted} tasks"
    if trigger.strategy == "Accurate":
        tasks = max(0, wanted - running)
        explanation += f", {running} still running -> {tasks} tasks"
        return ScalingDecision(depth, tasks, explanation)
    return ScalingDecision(depth, wanted, explanation)
