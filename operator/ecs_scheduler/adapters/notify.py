"""Sending run notifications: SNS Publish, SQS SendMessage (botocore retries), HTTPS webhooks.

AWS calls run in a small pool of their own, so a slow topic never takes a thread a RunTask
needs. Webhooks go out on the event loop (adapters.webhooks: aiohttp, screened where it
connects, redirects not followed).
"""

import asyncio
import dataclasses
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from ecs_scheduler.adapters.aws import AssumeRoleFailed, AwsClients, error_parts
from ecs_scheduler.adapters.kube import KubeError, SecretReader
from ecs_scheduler.adapters.taskqueue import region_of
from ecs_scheduler.adapters.webhooks import DeliveryFailed, Egress, WebhookPoster
from ecs_scheduler.model.aws import AwsScope
from ecs_scheduler.model.notify import NotificationTarget

__all__ = ["DeliveryFailed", "Egress", "NotificationSender", "Outgoing", "Senders"]


@dataclass(frozen=True)
class Outgoing:
    namespace: str
    group: str
    """The job (namespace/name): a FIFO topic's or queue's message group."""
    event_id: str
    payload: str


class NotificationSender(Protocol):
    async def send(self, target: NotificationTarget, *, scope: AwsScope, outgoing: Outgoing) -> None:
        """Raises DeliveryFailed."""
        ...

    async def close(self) -> None: ...


def _fifo(address: str, outgoing: Outgoing) -> dict[str, str]:
    if not address.endswith(".fifo"):
        return {}
    return {"MessageGroupId": outgoing.group, "MessageDeduplicationId": outgoing.event_id}


def _aws_error(error: Exception) -> str:
    code, message = error_parts(error)
    return f"{'AssumeRole: ' if isinstance(error, AssumeRoleFailed) else ''}{code}: {message}"


Sign = Callable[[bytes, bytes], str]
"""(key, body) -> the signature header's value."""


class Senders:
    """NotificationSender for every target type. The policy (which addresses are refused, how a
    body is signed) is the core's, handed in."""

    def __init__(
        self,
        clients: AwsClients,
        secrets: SecretReader,
        *,
        egress: Egress,
        sign: Sign,
        ca_file: str | None = None,
        concurrency: int = 4,
        webhooks: WebhookPoster | None = None,
    ) -> None:
        self._clients = clients
        self._secrets = secrets
        self._sign = sign
        self._webhooks = webhooks or WebhookPoster(egress, ca_file=ca_file)
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="notify")

    async def send(self, target: NotificationTarget, *, scope: AwsScope, outgoing: Outgoing) -> None:
        if target.sns is not None:
            arn = target.sns.topic_arn
            where = dataclasses.replace(scope, region=arn.split(":")[3])
            await self._aws(
                lambda: self._clients.client("sns", where).publish(
                    TopicArn=arn, Message=outgoing.payload, **_fifo(arn, outgoing)
                )
            )
        elif target.sqs is not None:
            url = target.sqs.queue_url
            where = dataclasses.replace(scope, region=target.sqs.region or region_of(url) or scope.region)
            await self._aws(
                lambda: self._clients.client("sqs", where).send_message(
                    QueueUrl=url, MessageBody=outgoing.payload, **_fifo(url, outgoing)
                )
            )
        else:
            assert target.webhook is not None
            self._webhooks.screen_name(target.webhook.host)  # before reading any Secret for it
            key = await self._key(target, outgoing.namespace)
            body = outgoing.payload.encode()
            await self._webhooks.post(target.webhook.url, target.webhook.host, body, self._sign(key, body))

    async def _aws(self, blocking: Callable[[], Any]) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, blocking)
        except (ClientError, BotoCoreError) as error:
            raise DeliveryFailed(_aws_error(error)) from None

    async def _key(self, target: NotificationTarget, namespace: str) -> bytes:
        assert target.webhook is not None
        ref = target.webhook.secret_ref
        try:
            return await self._secrets.secret_value(namespace, ref.name, ref.key)
        except KubeError as error:
            raise DeliveryFailed(f"secret {ref.name}/{ref.key}: {error}") from None

    async def close(self) -> None:
        await self._webhooks.close()
        await asyncio.sleep(0)  # let the connector's transports finish closing
        self._executor.shutdown(wait=False, cancel_futures=True)
