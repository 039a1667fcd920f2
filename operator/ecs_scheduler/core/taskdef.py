"""The task definition the operator registers for a container job: its family, its request, its hash.

Pure: the same job and container spec always give the same family, request and content hash,
so a restart, a failover or a second replica finds the revision already registered.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from ecs_scheduler.core.plan import given, job_tag_value
from ecs_scheduler.model import names
from ecs_scheduler.model.job import JobKey
from ecs_scheduler.model.spec import ContainerSpec

FAMILY_LIMIT = 255
"""ECS family names: up to 255 letters, digits, hyphens and underscores."""
_HASH_CHARS = 16


def family_for(key: JobKey) -> str:
    """ecs-scheduler_<namespace>_<name>. Kubernetes names hold no '_' and ECS families no '.', so
    a name's dots become '__' and distinct jobs never share a family; an overlong one ends in a hash."""
    family = f"{names.MANAGED_FAMILY_PREFIX}{key.namespace}_{key.name.replace('.', '__')}"
    if len(family) <= FAMILY_LIMIT:
        return family
    digest = hashlib.sha256(str(key).encode()).hexdigest()[:_HASH_CHARS]
    return f"{family[: FAMILY_LIMIT - _HASH_CHARS - 1]}-{digest}"


def _container_definition(container: ContainerSpec, *, region: str | None, key: JobKey) -> dict[str, Any]:
    definition: dict[str, Any] = {
        "name": container.name,
        "image": container.image,
        "essential": True,
        **given(
            command=container.command,
            entryPoint=container.entry_point,
            cpu=container.cpu,
            memory=container.memory,
        ),
    }
    if container.environment:
        definition["environment"] = [
            {"name": k, "value": v} for k, v in sorted(container.environment.items())
        ]
    if container.secrets:
        definition["secrets"] = [{"name": k, "valueFrom": v} for k, v in sorted(container.secrets.items())]
    if container.log_group is not None:
        options = {"awslogs-group": container.log_group, "awslogs-stream-prefix": key.name}
        if region is not None:
            options["awslogs-region"] = region
        definition["logConfiguration"] = {"logDriver": "awslogs", "options": options}
    return definition


def registration(container: ContainerSpec, *, key: JobKey, region: str | None) -> dict[str, Any]:
    """The RegisterTaskDefinition request for a container job, tags included (the content hash)."""
    request: dict[str, Any] = {
        "family": family_for(key),
        "containerDefinitions": [_container_definition(container, region=region, key=key)],
        **given(
            executionRoleArn=container.execution_role_arn,
            taskRoleArn=container.task_role_arn,
            networkMode=container.network_mode or ("awsvpc" if container.fargate else None),
            requiresCompatibilities=container.requires_compatibilities,
            cpu=container.task_cpu,
            memory=container.task_memory,
        ),
    }
    if container.ephemeral_storage_gib is not None:
        request["ephemeralStorage"] = {"sizeInGiB": container.ephemeral_storage_gib}
    if container.runtime_platform is not None:
        request["runtimePlatform"] = container.runtime_platform.model_dump(by_alias=True, exclude_none=True)
    request["tags"] = [
        {"key": names.JOB_TAG, "value": job_tag_value(str(key))},
        {"key": names.CONTENT_HASH_TAG, "value": content_hash(request)},
    ]
    return request


def content_hash(request: dict[str, Any]) -> str:
    """The hash of a registration request without its tags: equal for equal task definitions."""
    material = json.dumps(
        {k: v for k, v in request.items() if k != "tags"}, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(material.encode()).hexdigest()[:_HASH_CHARS]


def hash_of(request: dict[str, Any]) -> str:
    """The content hash a registration request carries in its tags."""
    return next(str(t["value"]) for t in request["tags"] if t["key"] == names.CONTENT_HASH_TAG)


@dataclass(frozen=True)
class Registered:
    """A revision registered for a container job, and the content hash it was registered from."""

    arn: str
    content_hash: str
