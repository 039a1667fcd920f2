"""The ECS boundary: RunTask, called off the event loop with bounded concurrency.

boto3 blocks, so every call runs in a thread pool whose size is the concurrency bound.
Retries use botocore's "standard" retry mode (throttling and transient errors, with jittered
backoff); nothing here retries by hand.
"""

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ecs_scheduler.model.launch import LaunchFailure, RunTaskCall, RunTaskOutcome

logger = logging.getLogger(__name__)


class EcsApi(Protocol):
    """The ECS calls the operator makes."""

    async def run_task(self, call: RunTaskCall) -> RunTaskOutcome: ...

    def close(self) -> None: ...


def outcome_from_response(response: dict[str, Any]) -> RunTaskOutcome:
    """A RunTask response as an outcome; `failures[]` in a 200 response are failures."""
    tasks = response.get("tasks", [])
    failures = tuple(
        LaunchFailure(
            reason=str(f.get("reason", "UNKNOWN")), detail=str(f.get("detail", "")), arn=f.get("arn")
        )
        for f in response.get("failures", [])
    )
    return RunTaskOutcome(
        task_arns=tuple(str(t["taskArn"]) for t in tasks),
        task_statuses=tuple(str(t.get("lastStatus", "PROVISIONING")) for t in tasks),
        failures=failures,
    )


class Boto3Ecs:
    """EcsApi over boto3, one client per region, calls in a bounded thread pool."""

    def __init__(
        self,
        *,
        default_region: str | None,
        endpoint_url: str | None = None,
        concurrency: int = 16,
        max_attempts: int = 5,
    ) -> None:
        self._default_region = default_region
        self._endpoint_url = endpoint_url
        self._config = Config(
            retries={"mode": "standard", "max_attempts": max_attempts},
            max_pool_connections=concurrency,
        )
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="ecs")
        self._clients: dict[str | None, Any] = {}
        self._session = boto3.session.Session()

    def _client(self, region: str | None) -> Any:
        region = region or self._default_region
        if region not in self._clients:
            self._clients[region] = self._session.client(
                "ecs", region_name=region, endpoint_url=self._endpoint_url, config=self._config
            )
        return self._clients[region]

    def _run_task_blocking(self, call: RunTaskCall) -> RunTaskOutcome:
        try:
            response = self._client(call.region).run_task(**call.request)
        except ClientError as error:
            info = error.response.get("Error", {})
            return RunTaskOutcome(
                failures=(LaunchFailure(str(info.get("Code")), str(info.get("Message", ""))),)
            )
        except BotoCoreError as error:
            return RunTaskOutcome(failures=(LaunchFailure(type(error).__name__, str(error)),))
        return outcome_from_response(response)

    async def run_task(self, call: RunTaskCall) -> RunTaskOutcome:
        loop = asyncio.get_running_loop()
        # Clients are created lazily inside the pool: creating one reads files and blocks.
        return await loop.run_in_executor(self._executor, self._run_task_blocking, call)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
