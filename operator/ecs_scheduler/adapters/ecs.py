"""The ECS boundary: RunTask and DescribeTasks, off the event loop."""

import logging
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from ecs_scheduler.adapters.aws import AwsClients
from ecs_scheduler.model.launch import LaunchFailure, RunTaskCall, RunTaskOutcome

logger = logging.getLogger(__name__)

DESCRIBE_BATCH = 100
"""DescribeTasks takes at most 100 task ARNs per call."""


class EcsApi(Protocol):
    """The ECS calls the operator makes."""

    async def run_task(self, call: RunTaskCall) -> RunTaskOutcome: ...

    async def task_statuses(self, *, cluster: str, region: str | None, arns: list[str]) -> dict[str, str]: ...


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
    """EcsApi over boto3."""

    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients

    def _run_task_blocking(self, call: RunTaskCall) -> RunTaskOutcome:
        try:
            response = self._clients.client("ecs", call.region).run_task(**call.request)
        except ClientError as error:
            info = error.response.get("Error", {})
            return RunTaskOutcome(
                failures=(LaunchFailure(str(info.get("Code")), str(info.get("Message", ""))),)
            )
        except BotoCoreError as error:
            return RunTaskOutcome(failures=(LaunchFailure(type(error).__name__, str(error)),))
        return outcome_from_response(response)

    async def run_task(self, call: RunTaskCall) -> RunTaskOutcome:
        return await self._clients.call(lambda: self._run_task_blocking(call))

    def _describe_blocking(self, cluster: str, region: str | None, arns: list[str]) -> dict[str, str]:
        client = self._clients.client("ecs", region)
        statuses: dict[str, str] = {}
        for start in range(0, len(arns), DESCRIBE_BATCH):
            response = client.describe_tasks(cluster=cluster, tasks=arns[start : start + DESCRIBE_BATCH])
            statuses.update({t["taskArn"]: t.get("lastStatus", "UNKNOWN") for t in response.get("tasks", [])})
        return statuses

    async def task_statuses(self, *, cluster: str, region: str | None, arns: list[str]) -> dict[str, str]:
        """lastStatus of each task ECS still knows; tasks it forgot are absent."""
        if not arns:
            return {}
        return await self._clients.call(lambda: self._describe_blocking(cluster, region, arns))
