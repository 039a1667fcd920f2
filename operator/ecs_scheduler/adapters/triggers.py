"""Trigger sources: plug-ins that measure something and return a number, registered in one place.

Like KEDA's scalers, each kind of trigger is one small class behind `TriggerSource`; the
scaling maths live in the pure core. SQS is the first source.

Several jobs on one queue that fire at the same instant share one GetQueueAttributes call:
measurements are memoised per (queue, instant) while they are in flight and shortly after.
"""

import asyncio
import dataclasses
import logging
from datetime import datetime
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from ecs_scheduler.adapters.aws import ASSUME_ROLE_FAILED, AssumeRoleFailed, AwsClients, error_parts
from ecs_scheduler.model.aws import AwsScope
from ecs_scheduler.model.spec import SqsTrigger
from ecs_scheduler.model.trigger import QueueDepth, TriggerFailure

logger = logging.getLogger(__name__)

_ATTRIBUTES = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
]
_MEMO_LIMIT = 4096


class TriggerSource(Protocol):
    """Measures a trigger's source at a check instant."""

    async def measure(self, trigger: SqsTrigger, *, scope: AwsScope, instant: datetime) -> QueueDepth:
        """The queue's depth, read with the job's credentials (`scope`) in the trigger's region."""
        ...


def _failure(error: Exception) -> TriggerFailure:
    code, message = error_parts(error)
    if isinstance(error, AssumeRoleFailed):
        return TriggerFailure(ASSUME_ROLE_FAILED, f"{code}: {message}")
    return TriggerFailure(code, message)


class SqsQueueDepth:
    """TriggerSource for SQS queues."""

    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients
        self._urls: dict[tuple[AwsScope, str], str] = {}
        self._memo: dict[tuple[AwsScope, str, datetime], asyncio.Future[QueueDepth]] = {}

    def _url_blocking(self, client: Any, scope: AwsScope, trigger: SqsTrigger) -> str:
        if trigger.queue_url:
            return trigger.queue_url
        assert trigger.queue_name is not None
        key = (scope, trigger.queue_name)
        if key not in self._urls:
            self._urls[key] = str(client.get_queue_url(QueueName=trigger.queue_name)["QueueUrl"])
        return self._urls[key]

    def _measure_blocking(self, trigger: SqsTrigger, scope: AwsScope) -> QueueDepth:
        try:
            # Inside the try: a client for a Region botocore cannot use (InvalidRegionError) is a
            # failed check of this job's trigger (TriggerError), not an error of the operator.
            client = self._clients.client("sqs", scope)
            url = self._url_blocking(client, scope, trigger)
            attributes = client.get_queue_attributes(QueueUrl=url, AttributeNames=_ATTRIBUTES)["Attributes"]
        except (ClientError, BotoCoreError) as error:
            if trigger.queue_name:
                self._urls.pop((scope, trigger.queue_name), None)  # re-resolve: the queue may come back
            raise _failure(error) from None
        return QueueDepth(
            visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
            in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
            delayed=int(attributes.get("ApproximateNumberOfMessagesDelayed", 0)),
        )

    async def measure(self, trigger: SqsTrigger, *, scope: AwsScope, instant: datetime) -> QueueDepth:
        if trigger.region is not None:
            scope = dataclasses.replace(scope, region=trigger.region)
        queue = trigger.queue_url or trigger.queue_name or ""
        key = (scope, queue, instant)
        future = self._memo.get(key)
        if future is None:
            where = scope
            future = asyncio.ensure_future(self._clients.call(lambda: self._measure_blocking(trigger, where)))
            self._memo[key] = future
            if len(self._memo) > _MEMO_LIMIT:
                for old in [k for k, f in self._memo.items() if f.done()][: _MEMO_LIMIT // 2]:
                    del self._memo[old]
        return await asyncio.shield(future)


def trigger_sources(clients: AwsClients) -> dict[str, TriggerSource]:
    """The registry: trigger type -> source."""
    return {"sqs": SqsQueueDepth(clients)}
