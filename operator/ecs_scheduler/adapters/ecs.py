"""The ECS boundary: RunTask, DescribeTasks, StopTask, ListTasks, DescribeTaskDefinition.

Every call runs off the event loop in the shared bounded pool; botocore's retry mode handles
throttling. Responses cross the boundary as ECS's own JSON; the core reads them.
"""

import logging
from collections.abc import Awaitable
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from ecs_scheduler.adapters.aws import ASSUME_ROLE_FAILED, AssumeRoleFailed, AwsClients
from ecs_scheduler.model.aws import AwsScope
from ecs_scheduler.model.launch import LaunchFailure, RunTaskCall, RunTaskOutcome

logger = logging.getLogger(__name__)

DESCRIBE_BATCH = 100
"""DescribeTasks takes at most 100 task ARNs per call."""

EcsError = (ClientError, BotoCoreError)


class EcsApi(Protocol):
    """The ECS calls the operator makes."""

    def run_task(self, call: RunTaskCall) -> Awaitable[RunTaskOutcome]:
        """Hand the call over at once (to the pool that sends it) and return its outcome to
        await. Sending is not deferred to the await, so a burst sends every RunTask due at one
        instant before handling any answer."""
        ...

    async def describe_tasks(
        self, *, cluster: str, scope: AwsScope, arns: list[str], tags: bool = False
    ) -> list[dict[str, Any]]:
        """The tasks ECS still knows among `arns` (forgotten ones are absent), 100 per call."""
        ...

    async def stop_task(self, *, cluster: str, scope: AwsScope, arn: str, reason: str) -> None: ...

    async def list_tasks(self, *, cluster: str, scope: AwsScope, started_by: str) -> list[str]:
        """ARNs of running and recently stopped tasks with this startedBy."""
        ...

    async def essential_containers(
        self, *, scope: AwsScope, task_definition_arn: str
    ) -> frozenset[str] | None:
        """Names of the essential containers, or None when the definition cannot be read."""
        ...

    async def log_configurations(
        self, *, scope: AwsScope, task_definition_arn: str
    ) -> dict[str, dict[str, Any] | None] | None:
        """Each container's log configuration, or None when the definition cannot be read."""
        ...


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


def log_configurations_of(task_definition: dict[str, Any]) -> dict[str, dict[str, Any] | None]:
    """Each container's `logConfiguration` (None: it has none), as ECS returns it."""
    return {
        str(c["name"]): c.get("logConfiguration") for c in task_definition.get("containerDefinitions", [])
    }


def essentials_of(task_definition: dict[str, Any]) -> frozenset[str]:
    """Essential container names; ECS treats a container as essential unless it says otherwise."""
    return frozenset(
        str(c["name"]) for c in task_definition.get("containerDefinitions", []) if c.get("essential", True)
    )


class Boto3Ecs:
    """EcsApi over boto3."""

    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients
        # Task definition revisions are immutable: what is read of one never changes.
        self._essentials: dict[tuple[AwsScope, str], frozenset[str] | None] = {}
        self._logs: dict[tuple[AwsScope, str], dict[str, dict[str, Any] | None]] = {}

    def _client(self, scope: AwsScope) -> Any:
        return self._clients.client("ecs", scope)

    def _run_task_blocking(self, call: RunTaskCall) -> RunTaskOutcome:
        try:
            response = self._client(call.scope).run_task(**call.request)
        except AssumeRoleFailed as error:  # nothing reached ECS: certain, and said as STS said it
            return RunTaskOutcome(
                failures=(LaunchFailure(ASSUME_ROLE_FAILED, f"{error.code}: {error.message}"),)
            )
        except ClientError as error:
            info = error.response.get("Error", {})
            status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            failure = LaunchFailure(
                str(info.get("Code")), str(info.get("Message", "")), uncertain=status >= 500
            )
            return RunTaskOutcome(failures=(failure,))
        except BotoCoreError as error:  # no answer at all: ECS may or may not have acted
            return RunTaskOutcome(failures=(LaunchFailure(type(error).__name__, str(error), uncertain=True),))
        return outcome_from_response(response)

    def run_task(self, call: RunTaskCall) -> Awaitable[RunTaskOutcome]:
        return self._clients.submit(lambda: self._run_task_blocking(call))

    def _describe_blocking(
        self, cluster: str, scope: AwsScope, arns: list[str], tags: bool
    ) -> list[dict[str, Any]]:
        client = self._client(scope)
        include = {"include": ["TAGS"]} if tags else {}
        found: list[dict[str, Any]] = []
        for start in range(0, len(arns), DESCRIBE_BATCH):
            batch = arns[start : start + DESCRIBE_BATCH]
            found += client.describe_tasks(cluster=cluster, tasks=batch, **include).get("tasks", [])
        return found

    async def describe_tasks(
        self, *, cluster: str, scope: AwsScope, arns: list[str], tags: bool = False
    ) -> list[dict[str, Any]]:
        if not arns:
            return []
        return await self._clients.call(lambda: self._describe_blocking(cluster, scope, arns, tags))

    async def stop_task(self, *, cluster: str, scope: AwsScope, arn: str, reason: str) -> None:
        # ECS caps the reason at 255 characters.
        await self._clients.call(
            lambda: self._client(scope).stop_task(cluster=cluster, task=arn, reason=reason[:255])
        )

    def _list_blocking(self, cluster: str, scope: AwsScope, started_by: str) -> list[str]:
        paginator = self._client(scope).get_paginator("list_tasks")
        arns: list[str] = []
        for desired in ("RUNNING", "STOPPED"):
            for page in paginator.paginate(cluster=cluster, startedBy=started_by, desiredStatus=desired):
                arns += page.get("taskArns", [])
        return list(dict.fromkeys(arns))

    async def list_tasks(self, *, cluster: str, scope: AwsScope, started_by: str) -> list[str]:
        return await self._clients.call(lambda: self._list_blocking(cluster, scope, started_by))

    async def _read_definition(self, scope: AwsScope, task_definition_arn: str) -> bool:
        """Read a revision once (its essential containers and log configurations); False when
        it cannot be read."""
        key = (scope, task_definition_arn)
        if key in self._essentials:
            return True
        try:
            response = await self._clients.call(
                lambda: self._client(scope).describe_task_definition(taskDefinition=task_definition_arn)
            )
        except EcsError as error:
            logger.warning("cannot read task definition %s: %s", task_definition_arn, error)
            return False
        self._essentials[key] = essentials_of(response["taskDefinition"])
        self._logs[key] = log_configurations_of(response["taskDefinition"])
        return True

    async def essential_containers(
        self, *, scope: AwsScope, task_definition_arn: str
    ) -> frozenset[str] | None:
        # Without the definition every container counts as essential: stricter, never laxer.
        if not await self._read_definition(scope, task_definition_arn):
            return None
        return self._essentials[(scope, task_definition_arn)]

    async def log_configurations(
        self, *, scope: AwsScope, task_definition_arn: str
    ) -> dict[str, dict[str, Any] | None] | None:
        if not await self._read_definition(scope, task_definition_arn):
            return None
        return self._logs[(scope, task_definition_arn)]
