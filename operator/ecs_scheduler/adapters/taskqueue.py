"""The SQS queue an EventBridge rule fills with ECS Task State Change events.

ReceiveMessage long-polls (20 s, batches of 10) in a daemon thread of its own, so a poll never
holds one of the AWS pool's threads and never delays the operator's exit. Deleting and moving
aside go through the pool. A message the operator cannot read is moved to the queue's
dead-letter queue (its RedrivePolicy) at once, instead of being received again and again.
"""

import asyncio
import contextlib
import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from ecs_scheduler.adapters.aws import AwsClients, error_parts
from ecs_scheduler.model.aws import AwsScope

logger = logging.getLogger(__name__)

T = TypeVar("T")

WAIT_SECONDS = 20
BATCH = 10
VISIBILITY_SECONDS = 120
"""A received message stays hidden this long: time enough to record it in status and delete it."""

_REGION_IN_HOST = re.compile(r"^(?:sqs\.)?([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-[0-9])\.")


class QueueError(Exception):
    """The queue could not be read or written."""


@dataclass(frozen=True)
class QueueMessage:
    id: str
    receipt: str
    body: str


class TaskEventQueue(Protocol):
    async def receive(self) -> list[QueueMessage]:
        """Up to 10 messages, waiting up to 20 s for the first. Raises QueueError."""
        ...

    async def delete(self, messages: list[QueueMessage]) -> None:
        """Raises QueueError."""
        ...

    async def move_aside(self, message: QueueMessage, reason: str) -> bool:
        """Send the message to the dead-letter queue and delete it; False when the queue has
        none (the message is deleted all the same: it would never become readable)."""
        ...


def region_of(url: str) -> str | None:
    """The Region in an SQS queue URL's host (sqs.REGION.amazonaws.com, REGION.queue...)."""
    host = url.split("://", 1)[-1].split("/", 1)[0]
    match = _REGION_IN_HOST.match(host)
    return match.group(1) if match else None


def _in_daemon_thread(blocking: Callable[[], T]) -> "asyncio.Future[T]":
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        try:
            result, error = blocking(), None
        except BaseException as raised:  # handed to the awaiting coroutine
            result, error = None, raised
        with contextlib.suppress(RuntimeError):  # the loop closed while polling: the operator exits
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=run, name="task-events-receive", daemon=True).start()
    return future


def _error_text(error: Exception) -> str:
    return "{}: {}".format(*error_parts(error))


class SqsTaskEventQueue:
    """TaskEventQueue with the operator's own credentials."""

    def __init__(self, clients: AwsClients, url: str) -> None:
        self._clients = clients
        self._url = url
        self._scope = AwsScope(region_of(url))
        self._dead_letters: str | None = None
        self._looked_up = False

    def _client(self) -> Any:
        return self._clients.client("sqs", self._scope)

    async def _call(self, blocking: Callable[[], T]) -> T:
        try:
            return await self._clients.call(blocking)
        except (ClientError, BotoCoreError) as error:
            raise QueueError(_error_text(error)) from None

    async def receive(self) -> list[QueueMessage]:
        def poll() -> list[QueueMessage]:
            answer = self._client().receive_message(
                QueueUrl=self._url,
                MaxNumberOfMessages=BATCH,
                WaitTimeSeconds=WAIT_SECONDS,
                VisibilityTimeout=VISIBILITY_SECONDS,
            )
            return [
                QueueMessage(str(m["MessageId"]), str(m["ReceiptHandle"]), str(m.get("Body") or ""))
                for m in answer.get("Messages") or []
            ]

        try:
            return await _in_daemon_thread(poll)
        except (ClientError, BotoCoreError) as error:
            raise QueueError(_error_text(error)) from None

    async def delete(self, messages: list[QueueMessage]) -> None:
        if not messages:
            return
        entries = [{"Id": str(i), "ReceiptHandle": m.receipt} for i, m in enumerate(messages)]
        answer = await self._call(
            lambda: self._client().delete_message_batch(QueueUrl=self._url, Entries=entries)
        )
        failed = answer.get("Failed") or []
        if failed:  # they come back after the visibility timeout, and are applied again (no harm)
            logger.warning("%d task event message(s) not deleted: %s", len(failed), failed[0].get("Message"))

    async def move_aside(self, message: QueueMessage, reason: str) -> bool:
        target = await self._dead_letter_url()
        if target is not None:
            await self._call(
                lambda: self._client().send_message(
                    QueueUrl=target,
                    MessageBody=message.body or "(empty)",
                    MessageAttributes={
                        "ecs-scheduler-reason": {"DataType": "String", "StringValue": reason[:1000]}
                    },
                )
            )
        await self.delete([message])
        return target is not None

    async def _dead_letter_url(self) -> str | None:
        """The queue's RedrivePolicy target, looked up once."""
        if not self._looked_up:
            self._dead_letters = await self._call(self._lookup_dead_letters)
            self._looked_up = True
            if self._dead_letters is None:
                logger.warning(
                    "task events queue %s has no dead-letter queue (RedrivePolicy): unreadable "
                    "messages are logged and deleted",
                    self._url,
                )
        return self._dead_letters

    def _lookup_dead_letters(self) -> str | None:
        client = self._client()
        attributes = client.get_queue_attributes(QueueUrl=self._url, AttributeNames=["RedrivePolicy"])
        policy = (attributes.get("Attributes") or {}).get("RedrivePolicy")
        if not policy:
            return None
        arn = str(json.loads(policy).get("deadLetterTargetArn") or "")
        parts = arn.split(":")
        if len(parts) != 6:
            return None
        return str(client.get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])["QueueUrl"])
