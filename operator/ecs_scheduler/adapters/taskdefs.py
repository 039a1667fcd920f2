"""The ECS task definition boundary, for container jobs: find, register and deregister revisions.

These calls are rare (a spec change, a revision no run uses any more), so they are not paced
like RunTask; botocore's retry mode absorbs throttling.
"""

from typing import Any, Protocol

from ecs_scheduler.adapters.aws import AwsClients
from ecs_scheduler.model import names
from ecs_scheduler.model.aws import AwsScope

LOOK_BACK = 5
"""Newest ACTIVE revisions read when looking for one with the wanted content hash: a spec that
changes back to an older container is registered again only if that revision is older than this."""


def family_of_arn(arn: str) -> str:
    """arn:aws:ecs:region:account:task-definition/family:revision -> family."""
    return arn.rsplit("/", 1)[-1].rsplit(":", 1)[0]


class TaskDefinitionApi(Protocol):
    async def find(self, *, scope: AwsScope, family: str, content_hash: str) -> str | None:
        """An ACTIVE revision of `family` registered with this content hash, or None."""
        ...

    async def register(self, *, scope: AwsScope, request: dict[str, Any]) -> str:
        """Register a revision; its ARN."""
        ...

    async def active(self, *, scope: AwsScope, family: str) -> list[str]:
        """ARNs of the family's ACTIVE revisions, newest first."""
        ...

    async def deregister(self, *, scope: AwsScope, arn: str) -> None: ...


class Boto3TaskDefinitions:
    """TaskDefinitionApi over boto3."""

    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients

    def _active_blocking(self, scope: AwsScope, family: str) -> list[str]:
        paginator = self._clients.client("ecs", scope).get_paginator("list_task_definitions")
        arns: list[str] = []
        # familyPrefix matches by prefix: keep the family's own revisions only.
        for page in paginator.paginate(familyPrefix=family, status="ACTIVE", sort="DESC"):
            arns += [arn for arn in page.get("taskDefinitionArns", []) if family_of_arn(arn) == family]
        return arns

    def _find_blocking(self, scope: AwsScope, family: str, content_hash: str) -> str | None:
        client = self._clients.client("ecs", scope)
        for arn in self._active_blocking(scope, family)[:LOOK_BACK]:
            described = client.describe_task_definition(taskDefinition=arn, include=["TAGS"])
            tags = {t.get("key"): t.get("value") for t in described.get("tags") or []}
            if tags.get(names.CONTENT_HASH_TAG) == content_hash:
                return arn
        return None

    async def find(self, *, scope: AwsScope, family: str, content_hash: str) -> str | None:
        return await self._clients.call(lambda: self._find_blocking(scope, family, content_hash))

    async def register(self, *, scope: AwsScope, request: dict[str, Any]) -> str:
        client = self._clients.client("ecs", scope)
        response = await self._clients.call(lambda: client.register_task_definition(**request))
        return str(response["taskDefinition"]["taskDefinitionArn"])

    async def active(self, *, scope: AwsScope, family: str) -> list[str]:
        return await self._clients.call(lambda: self._active_blocking(scope, family))

    async def deregister(self, *, scope: AwsScope, arn: str) -> None:
        client = self._clients.client("ecs", scope)
        await self._clients.call(lambda: client.deregister_task_definition(taskDefinition=arn))
