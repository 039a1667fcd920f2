"""ECS `Task State Change` events, as an EventBridge rule delivers them to an SQS queue.

The message body is the EventBridge event; its `detail` is the task in DescribeTasks' shape
plus `version`, which orders one task's states. Parsing is pure: what is not such an event is
`Malformed` (moved aside by the consumer, never retried), what is another operator's or
another service's task is read only as far as needed to say so.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase

from ecs_scheduler.core.tasks import TaskReport, task_report

DETAIL_TYPE = "ECS Task State Change"
SOURCE = "aws.ecs"


class Malformed(ValueError):
    """Not an ECS Task State Change event this operator can read."""


@dataclass(frozen=True)
class TaskEvent:
    id: str
    """EventBridge's event id: the same for every delivery of one event."""
    task_arn: str
    cluster_arn: str
    started_by: str
    version: int | None
    report: TaskReport


def _unwrapped(event: dict[str, object], sns_topics: Iterable[str]) -> object:
    """The EventBridge event inside an SNS envelope (EventBridge -> SNS -> SQS without raw message
    delivery, a common fan-out), when the topic is one the operator was told to accept."""
    topic = str(event.get("TopicArn"))
    if not any(fnmatchcase(topic, pattern) for pattern in sns_topics):
        raise Malformed(
            f"SNS envelope from {topic}: enable raw message delivery on the subscription, or accept "
            "the topic with --task-events-sns-topics"
        )
    try:
        return json.loads(str(event.get("Message")))
    except ValueError as error:
        raise Malformed(f"SNS envelope from {topic}: its Message is not JSON: {error}") from None


def parse_task_event(body: str, *, sns_topics: Iterable[str] = ()) -> TaskEvent:
    """The event an SQS message body carries. Raises Malformed. `sns_topics`: patterns of the SNS
    topics whose envelopes are opened."""
    try:
        event = json.loads(body)
    except ValueError as error:
        raise Malformed(f"not JSON: {error}") from None
    if isinstance(event, dict) and event.get("Type") == "Notification" and "TopicArn" in event:
        event = _unwrapped(event, sns_topics)
    if not isinstance(event, dict):
        raise Malformed("not a JSON object")
    if event.get("source") != SOURCE or event.get("detail-type") != DETAIL_TYPE:
        raise Malformed(f"not an {DETAIL_TYPE} event: source={event.get('source')!r}")
    detail = event.get("detail")
    if not isinstance(detail, dict) or not isinstance(detail.get("taskArn"), str):
        raise Malformed("detail.taskArn missing")
    version = detail.get("version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise Malformed(f"detail.version is not an integer: {version!r}")
    try:
        report = task_report(detail)
    except (TypeError, ValueError, AttributeError) as error:
        raise Malformed(f"detail unreadable: {error}") from None
    return TaskEvent(
        id=str(event.get("id") or f"{detail['taskArn']}#{version}"),
        task_arn=detail["taskArn"],
        cluster_arn=str(detail.get("clusterArn") or ""),
        started_by=str(detail.get("startedBy") or ""),
        version=version,
        report=report,
    )


def cluster_name(cluster: str) -> str:
    """A cluster's name from its name or ARN (arn:aws:ecs:region:account:cluster/NAME)."""
    return cluster.rsplit("/", 1)[-1] if cluster.startswith("arn:") else cluster


def in_order(events: list[TaskEvent]) -> list[TaskEvent]:
    """`events` oldest first per task, so a batch that holds several states of one task applies
    them as ECS made them."""
    return sorted(events, key=lambda e: (e.task_arn, e.version or 0))
