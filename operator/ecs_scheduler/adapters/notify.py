"""Sending run notifications: SNS Publish, SQS SendMessage (botocore retries), HTTPS webhooks.

AWS calls run in a small pool of their own, so a slow topic never takes a thread a RunTask
needs. Webhooks go out on the event loop (aiohttp, kopf's HTTP library) with a timeout; the
host is resolved first and refused when it points inside the cluster or the machine, unless
the operator allows that host (--webhook-internal-hosts).
"""

import asyncio
import dataclasses
import ssl
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Protocol

import aiohttp
from botocore.exceptions import BotoCoreError, ClientError

from ecs_scheduler.adapters.aws import AssumeRoleFailed, AwsClients, error_parts
from ecs_scheduler.adapters.kube import KubeError, SecretReader
from ecs_scheduler.adapters.taskqueue import region_of
from ecs_scheduler.model import names
from ecs_scheduler.model.aws import AwsScope
from ecs_scheduler.model.notify import NotificationTarget

WEBHOOK_TIMEOUT = 10.0
SIGNATURE_HEADER = "X-Ecs-Scheduler-Signature"
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"


class DeliveryFailed(Exception):
    """A notification did not arrive. `final`: trying again cannot help (refused by policy)."""

    def __init__(self, message: str, *, final: bool = False) -> None:
        super().__init__(message)
        self.final = final


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


Screen = Callable[[str, list[str]], str | None]
"""(host, addresses it resolved to) -> why it is refused, or None."""
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
        screen: Screen,
        sign: Sign,
        internal_hosts: tuple[str, ...] = (),
        ca_file: str | None = None,
        concurrency: int = 4,
    ) -> None:
        self._clients = clients
        self._secrets = secrets
        self._internal_hosts = internal_hosts
        self._screen = screen
        self._sign = sign
        self._ssl = ssl.create_default_context(cafile=ca_file)
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="notify")
        self._session: aiohttp.ClientSession | None = None

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
            await self._screen_host(target.webhook.host)  # before reading any Secret for it
            key = await self._key(target, outgoing.namespace)
            await self._post(target.webhook.url, target.webhook.host, outgoing, key)

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

    async def _screen_host(self, host: str) -> None:
        """Refuse a host inside the cluster or the machine, unless the operator allows it."""
        if any(fnmatchcase(host, allowed) for allowed in self._internal_hosts):
            return
        try:
            resolved = await asyncio.get_running_loop().getaddrinfo(host, 443)
        except OSError as error:
            raise DeliveryFailed(f"cannot resolve {host}: {error}") from None
        refused = self._screen(host, [str(entry[4][0]) for entry in resolved])
        if refused is not None:
            raise DeliveryFailed(f"refused: {refused}", final=True)

    async def _post(self, url: str, host: str, outgoing: Outgoing, key: bytes) -> None:
        body = outgoing.payload.encode()
        headers = {
            "Content-Type": CONTENT_TYPE,
            "User-Agent": names.USER_AGENT,
            SIGNATURE_HEADER: self._sign(key, body),
        }
        try:
            async with self._session_now().post(url, data=body, headers=headers) as response:
                if not 200 <= response.status < 300:
                    raise DeliveryFailed(f"HTTP {response.status} from {host}")
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DeliveryFailed(f"{type(error).__name__}: {error}") from None

    def _session_now(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT)
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=self._ssl, limit=16), timeout=timeout
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            await asyncio.sleep(0)  # let the connector's transports finish closing
        self._executor.shutdown(wait=False, cancel_futures=True)
