"""The SQS trigger source at its boundary, with botocore's Stubber (no network).

Covers what moto cannot show cheaply or at all: a 5,000-message backlog, throttling and access
denied, name resolution cached once, and one GetQueueAttributes shared by jobs at one instant.
"""

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import Stubber

from ecs_scheduler.adapters.aws import AwsClients
from ecs_scheduler.adapters.triggers import SqsQueueDepth
from ecs_scheduler.core.scaling import decide
from ecs_scheduler.model.aws import AwsScope
from ecs_scheduler.model.spec import SqsTrigger
from ecs_scheduler.model.trigger import QueueDepth, TriggerFailure

URL = "https://sqs.us-east-1.amazonaws.com/123456789012/work"
INSTANT = datetime(2026, 11, 22, 5, 0, tzinfo=UTC)
ATTRIBUTES = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
]


@pytest.fixture
def clients() -> Any:
    aws = AwsClients(default_region="us-east-1", endpoint_url=None, concurrency=2, max_attempts=1)
    yield aws
    aws.close()


def trigger(**fields: Any) -> SqsTrigger:
    return SqsTrigger.model_validate({"type": "sqs", "queueName": "work", "messagesPerTask": 100, **fields})


def attributes_response(visible: int, in_flight: int = 0, delayed: int = 0) -> dict[str, Any]:
    return {"Attributes": {"ApproximateNumberOfMessages": str(visible),
                           "ApproximateNumberOfMessagesNotVisible": str(in_flight),
                           "ApproximateNumberOfMessagesDelayed": str(delayed)}}  # fmt: skip


def test_five_thousand_messages_with_max_count_ten(clients: AwsClients) -> None:
    client = clients.client("sqs", AwsScope("us-east-1"))
    source = SqsQueueDepth(clients)
    with Stubber(client) as stub:
        stub.add_response("get_queue_url", {"QueueUrl": URL}, {"QueueName": "work"})
        stub.add_response(
            "get_queue_attributes",
            attributes_response(5000, 7, 3),
            {"QueueUrl": URL, "AttributeNames": ATTRIBUTES},
        )
        measured = asyncio.run(source.measure(trigger(), scope=AwsScope(None), instant=INSTANT))
        stub.assert_no_pending_responses()
    assert measured == QueueDepth(5000, 7, 3)
    assert decide(trigger(), measured, task_count=1, max_count=10).tasks == 10


def test_jobs_at_one_instant_share_one_call_and_the_url_is_resolved_once(clients: AwsClients) -> None:
    client = clients.client("sqs", AwsScope("us-east-1"))
    source = SqsQueueDepth(clients)

    async def three_jobs_then_a_later_check() -> list[QueueDepth]:
        together = await asyncio.gather(
            *(source.measure(trigger(), scope=AwsScope(None), instant=INSTANT) for _ in range(3))
        )
        later = await source.measure(trigger(), scope=AwsScope(None), instant=INSTANT.replace(minute=1))
        return [*together, later]

    with Stubber(client) as stub:
        stub.add_response("get_queue_url", {"QueueUrl": URL}, {"QueueName": "work"})
        stub.add_response(
            "get_queue_attributes", attributes_response(250), {"QueueUrl": URL, "AttributeNames": ATTRIBUTES}
        )
        stub.add_response(
            "get_queue_attributes", attributes_response(40), {"QueueUrl": URL, "AttributeNames": ATTRIBUTES}
        )
        results = asyncio.run(three_jobs_then_a_later_check())
        stub.assert_no_pending_responses()
    assert [r.visible for r in results] == [250, 250, 250, 40]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist."),
        ("AccessDenied", "User is not authorized to perform sqs:GetQueueAttributes"),
        ("ThrottlingException", "Rate exceeded"),
    ],
)
def test_errors_become_trigger_failures_and_the_name_is_resolved_again(
    clients: AwsClients, code: str, message: str
) -> None:
    client = clients.client("sqs", AwsScope("us-east-1"))
    source = SqsQueueDepth(clients)
    with Stubber(client) as stub:
        stub.add_response("get_queue_url", {"QueueUrl": URL}, {"QueueName": "work"})
        stub.add_client_error(
            "get_queue_attributes", service_error_code=code, service_message=message, http_status_code=400
        )
        stub.add_response("get_queue_url", {"QueueUrl": URL}, {"QueueName": "work"})
        stub.add_response(
            "get_queue_attributes", attributes_response(1), {"QueueUrl": URL, "AttributeNames": ATTRIBUTES}
        )
        with pytest.raises(TriggerFailure) as caught:
            asyncio.run(source.measure(trigger(), scope=AwsScope(None), instant=INSTANT))
        assert (caught.value.code, caught.value.message) == (code, message)
        assert (
            asyncio.run(
                source.measure(trigger(), scope=AwsScope(None), instant=INSTANT.replace(minute=1))
            ).visible
            == 1
        )
        stub.assert_no_pending_responses()


def test_queue_url_needs_no_resolution(clients: AwsClients) -> None:
    client = clients.client("sqs", AwsScope("us-east-1"))
    with Stubber(client) as stub:
        stub.add_response(
            "get_queue_attributes", attributes_response(3), {"QueueUrl": URL, "AttributeNames": ATTRIBUTES}
        )
        depth = asyncio.run(
            SqsQueueDepth(clients).measure(
                trigger(queueName=None, queueUrl=URL), scope=AwsScope(None), instant=INSTANT
            )
        )
        stub.assert_no_pending_responses()
    assert depth.visible == 3


@pytest.mark.parametrize("region", ["us-east-1.evil.example", "169.254.169.254", "../x"])
def test_a_region_botocore_refuses_is_a_failed_check_not_an_operator_error(
    clients: AwsClients, region: str
) -> None:
    # Such a region is refused at apply time now; a job stored before the CRD carried the pattern
    # (model_construct: no validation) must still end as TriggerError, never escape the check.
    stored = SqsTrigger.model_construct(type="sqs", queue_name="work", queue_url=None, region=region,
                                        messages_per_task=1)  # fmt: skip
    with pytest.raises(TriggerFailure) as caught:
        asyncio.run(SqsQueueDepth(clients).measure(stored, scope=AwsScope(None), instant=INSTANT))
    assert "region" in caught.value.message.lower() or "Region" in caught.value.code, caught.value
