"""Container jobs: the spec rules, and the task definition the operator registers for one."""

from datetime import UTC, datetime
from typing import Any

import pytest

from ecs_scheduler.core.errors import SpecError
from ecs_scheduler.core.taskdef import FAMILY_LIMIT, content_hash, family_for, hash_of, registration
from ecs_scheduler.core.validation import validate_spec
from ecs_scheduler.model import names
from ecs_scheduler.model.job import JobKey
from ecs_scheduler.model.spec import ContainerSpec

KEY = JobKey("team-a", "nightly")
FARGATE = {"image": "busybox", "requiresCompatibilities": ["FARGATE"], "taskCpu": "256", "taskMemory": "512"}


def job(**fields: Any) -> dict[str, Any]:
    return {"schedule": "@daily", **fields}


@pytest.mark.parametrize(
    ("name", "raw", "field", "message"),
    [
        ("both", job(taskDefinition="app", container={"image": "x", "memory": 8}), "spec",
         "exactly one of taskDefinition and container"),
        ("neither", job(), "spec", "exactly one of taskDefinition and container"),
        ("fargate without task size", job(container={"image": "x", "memory": 8, "requiresCompatibilities": ["FARGATE"]}),
         "spec.container", "FARGATE requires taskCpu and taskMemory"),
        ("fargate on bridge", job(container={**FARGATE, "networkMode": "bridge"}), "spec.container",
         "FARGATE requires networkMode awsvpc"),
        ("no memory anywhere", job(container={"image": "x"}), "spec.container", "memory or taskMemory must be set"),
        ("secrets without an execution role", job(container={"image": "x", "memory": 8,
         "secrets": {"DB": "arn:aws:ssm:eu-west-1:123456789012:parameter/db"}}), "spec.container",
         "secrets need executionRoleArn"),
        ("role that is not an ARN", job(taskDefinition="app", roleArn="admin"), "spec.roleArn", "pattern"),
        ("storage below Fargate's minimum", job(container={**FARGATE, "ephemeralStorageGib": 20}),
         "spec.container.ephemeralStorageGib", "21"),
    ],
)  # fmt: skip
def test_invalid_specs_name_the_field(name: str, raw: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        validate_spec(raw, identity="ns/x", now=datetime(2026, 11, 23, tzinfo=UTC))
    assert caught.value.field == field, name
    assert message in caught.value.message, name


@pytest.mark.parametrize(
    ("key", "family"),
    [
        (JobKey("team-a", "nightly"), "ecs-scheduler_team-a_nightly"),
        (JobKey("team-a", "nightly.v2"), "ecs-scheduler_team-a_nightly__v2"),
        (JobKey("team-a", "nightly-v2"), "ecs-scheduler_team-a_nightly-v2"),
    ],
)
def test_family_for(key: JobKey, family: str) -> None:
    assert family_for(key) == family


def test_overlong_families_are_cut_and_stay_distinct() -> None:
    a, b = family_for(JobKey("n" * 63, "x" * 250)), family_for(JobKey("n" * 63, "x" * 249 + "y"))
    assert len(a) == len(b) == FAMILY_LIMIT and a != b


def container(**fields: Any) -> ContainerSpec:
    return ContainerSpec.model_validate({"image": "busybox:1.36", "memory": 64, **fields})


def test_registration_request() -> None:
    spec = container(
        command=["sh", "-c", "echo hi"], environment={"B": "2", "A": "1"},
        secrets={"TOKEN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:token"},
        executionRoleArn="arn:aws:iam::123456789012:role/ecsTaskExecutionRole", logGroup="/jobs",
        requiresCompatibilities=["FARGATE"], taskCpu="256", taskMemory="512", ephemeralStorageGib=30,
        runtimePlatform={"cpuArchitecture": "ARM64"},
    )  # fmt: skip
    request = registration(spec, key=KEY, region="eu-west-1")
    assert request == {
        "family": "ecs-scheduler_team-a_nightly",
        "containerDefinitions": [{
            "name": "main", "image": "busybox:1.36", "essential": True, "command": ["sh", "-c", "echo hi"],
            "memory": 64, "environment": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
            "secrets": [{"name": "TOKEN", "valueFrom": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:token"}],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": "/jobs", "awslogs-stream-prefix": "nightly", "awslogs-region": "eu-west-1"}},
        }],
        "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
        "networkMode": "awsvpc",  # Fargate's only mode, filled in
        "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512",
        "ephemeralStorage": {"sizeInGiB": 30}, "runtimePlatform": {"cpuArchitecture": "ARM64"},
        "tags": [{"key": names.JOB_TAG, "value": "team-a/nightly"},
                 {"key": names.CONTENT_HASH_TAG, "value": content_hash(request)}],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("name", "change", "same"),
    [
        ("environment in another order", {"environment": {"B": "2", "A": "1"}}, True),
        ("another image", {"image": "busybox:1.37"}, False),
        ("another command", {"command": ["true"]}, False),
        ("another variable value", {"environment": {"A": "1", "B": "3"}}, False),
        ("a task role", {"taskRoleArn": "arn:aws:iam::123456789012:role/app"}, False),
    ],
)
def test_content_hash_follows_what_is_registered(name: str, change: dict[str, Any], same: bool) -> None:
    base = registration(container(environment={"A": "1", "B": "2"}), key=KEY, region="eu-west-1")
    other = registration(
        container(**{"environment": {"A": "1", "B": "2"}, **change}), key=KEY, region="eu-west-1"
    )
    assert (hash_of(base) == hash_of(other)) == same, name
    assert len(hash_of(base)) == 16
