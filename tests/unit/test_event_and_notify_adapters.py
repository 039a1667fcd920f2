"""The task events queue and the AWS notification senders against moto in server mode."""

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from ecs_scheduler.adapters.aws import AwsClients
from ecs_scheduler.adapters.notify import DeliveryFailed, Outgoing, Senders
from ecs_scheduler.adapters.taskqueue import SqsTaskEventQueue, region_of
from ecs_scheduler.core.notify import signature
from ecs_scheduler.model.aws import AwsScope
from ecs_scheduler.model.notify import NotificationTarget
from ecs_scheduler.runtime.wiring import egress_policy

REGION = "us-east-1"


@pytest.fixture
def sqs(moto_url: str) -> Iterator[Any]:
    client = boto3.client("sqs", endpoint_url=moto_url, region_name=REGION,
                          aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    yield client
    client.close()


def clients(moto_url: str) -> AwsClients:
    return AwsClients(default_region=REGION, endpoint_url=moto_url, concurrency=2, max_attempts=2)


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


@pytest.mark.parametrize(
    ("url", "region"),
    [("https://sqs.eu-west-1.amazonaws.com/123456789012/q", "eu-west-1"),
     ("https://us-gov-west-1.queue.amazonaws.com/123456789012/q", "us-gov-west-1"),
     ("http://127.0.0.1:5000/123456789012/q", None)],
)  # fmt: skip
def test_the_region_is_read_from_the_queue_url(url: str, region: str | None) -> None:
    assert region_of(url) == region


def test_messages_are_received_deleted_and_unreadable_ones_moved_to_the_dead_letter_queue(
    moto_url: str, sqs: Any
) -> None:
    dlq = sqs.create_queue(QueueName="events-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(QueueName="events", Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})})["QueueUrl"]  # fmt: skip
    for body in ("one", "two"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    aws = clients(moto_url)
    queue = SqsTaskEventQueue(aws, url)

    async def main() -> None:
        received = await queue.receive()
        assert sorted(m.body for m in received) == ["one", "two"]
        bad, good = sorted(received, key=lambda m: m.body)
        assert await queue.move_aside(bad, "not JSON") is True
        await queue.delete([good])

    asyncio.run(main())
    aside = sqs.receive_message(QueueUrl=dlq, MessageAttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in aside] == ["one"]
    assert aside[0]["MessageAttributes"]["ecs-scheduler-reason"]["StringValue"] == "not JSON"
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (
        attributes["ApproximateNumberOfMessages"] == "0"
        and attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
    )
    aws.close()


def test_without_a_dead_letter_queue_an_unreadable_message_is_deleted(moto_url: str, sqs: Any) -> None:
    url = sqs.create_queue(QueueName="events-no-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="garbage")
    aws = clients(moto_url)
    queue = SqsTaskEventQueue(aws, url)

    async def main() -> bool:
        (message,) = await queue.receive()
        return await queue.move_aside(message, "not JSON")

    assert asyncio.run(main()) is False
    assert (
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"][
            "ApproximateNumberOfMessagesNotVisible"
        ]
        == "0"
    )
    aws.close()


class NoSecrets:
    async def secret_value(self, namespace: str, name: str, key: str) -> bytes:
        raise AssertionError("AWS targets read no secret")


def test_sns_and_sqs_targets_deliver_the_payload(moto_url: str, sqs: Any) -> None:
    sns = boto3.client("sns", endpoint_url=moto_url, region_name=REGION)
    topic = sns.create_topic(Name="ecs-scheduler-runs")["TopicArn"]
    subscriber = sqs.create_queue(QueueName="runs-subscriber")["QueueUrl"]
    subscriber_arn = sqs.get_queue_attributes(QueueUrl=subscriber, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=subscriber_arn, Attributes={"RawMessageDelivery": "true"}
    )
    direct = sqs.create_queue(QueueName="runs-direct.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    aws = clients(moto_url)
    senders = Senders(aws, NoSecrets(), egress=egress_policy(()), sign=signature)
    outgoing = Outgoing("team-a", "team-a/nightly", "event-1", '{"id":"event-1"}')

    async def main() -> None:
        for raw in ({"sns": {"topicArn": topic}}, {"sqs": {"queueUrl": direct}}):
            await senders.send(
                NotificationTarget.model_validate(raw), scope=AwsScope(REGION), outgoing=outgoing
            )
        missing = NotificationTarget.model_validate({"sns": {"topicArn": topic + "-gone"}})
        with pytest.raises(DeliveryFailed, match="NotFound"):
            await senders.send(missing, scope=AwsScope(REGION), outgoing=outgoing)
        await senders.close()

    asyncio.run(main())
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=subscriber)["Messages"]] == ['{"id":"event-1"}']
    fifo = sqs.receive_message(QueueUrl=direct, AttributeNames=["All"])["Messages"]
    assert (
        fifo[0]["Body"] == '{"id":"event-1"}' and fifo[0]["Attributes"]["MessageGroupId"] == "team-a/nightly"
    )
    sns.close()
    aws.close()
