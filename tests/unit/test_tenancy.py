"""The tenant guard: allowances per namespace, matched by pattern, naming the field that is out."""

from typing import Any

import pytest

from ecs_scheduler.core.tenancy import family_of, forbidden
from ecs_scheduler.model.spec import ScheduledEcsJobSpec
from ecs_scheduler.model.tenancy import TenantPolicy

pytestmark = pytest.mark.reliability

POLICY = TenantPolicy.model_validate(
    {
        "namespaces": {
            "team-a": {
                "clusters": ["batch", "team-a-*"],
                "taskDefinitionFamilies": ["team-a-*", "shared-report"],
                "roles": ["arn:aws:iam::123456789012:role/team-a-*"],
            },
            "team-*": {"clusters": ["shared"]},
            "*": {"clusters": ["default"], "taskDefinitionFamilies": ["public-*"]},
        }
    }
)


def spec(**fields: Any) -> ScheduledEcsJobSpec:
    return ScheduledEcsJobSpec.model_validate(
        {"taskDefinition": "team-a-etl:3", "schedule": "@daily", **fields}
    )


@pytest.mark.parametrize(
    ("name", "namespace", "fields", "field"),
    [
        ("allowed cluster and family", "team-a", {"cluster": "batch"}, None),
        ("cluster by pattern", "team-a", {"cluster": "team-a-gpu"}, None),
        ("cluster as an ARN", "team-a", {"cluster": "arn:aws:ecs:eu-west-1:123456789012:cluster/batch"}, None),
        ("other cluster", "team-a", {"cluster": "prod"}, "spec.cluster"),
        ("default cluster not in the list", "team-a", {}, "spec.cluster"),
        ("family by ARN", "team-a", {"cluster": "batch",
         "taskDefinition": "arn:aws:ecs:eu-west-1:123456789012:task-definition/shared-report:9"}, None),
        ("other family", "team-a", {"cluster": "batch", "taskDefinition": "team-b-etl"}, "spec.taskDefinition"),
        ("allowed task role", "team-a", {"cluster": "batch",
         "overrides": {"taskRoleArn": "arn:aws:iam::123456789012:role/team-a-reader"}}, None),
        ("foreign task role", "team-a", {"cluster": "batch",
         "overrides": {"taskRoleArn": "arn:aws:iam::123456789012:role/admin"}}, "spec.overrides.taskRoleArn"),
        ("foreign execution role", "team-a", {"cluster": "batch",
         "overrides": {"executionRoleArn": "arn:aws:iam::123456789012:role/admin"}}, "spec.overrides.executionRoleArn"),
        ("most specific pattern wins", "team-b", {"cluster": "shared", "taskDefinition": "anything"}, None),
        ("team pattern still limits clusters", "team-b", {"cluster": "default"}, "spec.cluster"),
        ("catch-all", "other", {"taskDefinition": "public-hello"}, None),
        ("catch-all family", "other", {"taskDefinition": "team-a-etl"}, "spec.taskDefinition"),
    ],
)  # fmt: skip
def test_allowances(name: str, namespace: str, fields: dict[str, Any], field: str | None) -> None:
    error = forbidden(POLICY, namespace=namespace, spec=spec(**fields), default_cluster="default")
    assert (error.field if error else None) == field
    if error is not None:
        assert namespace in error.message


def test_no_policy_and_unlisted_namespaces_are_unrestricted() -> None:
    assert forbidden(None, namespace="x", spec=spec(cluster="prod"), default_cluster="default") is None
    narrow = TenantPolicy.model_validate({"namespaces": {"team-a": {"clusters": ["batch"]}}})
    assert forbidden(narrow, namespace="team-z", spec=spec(cluster="prod"), default_cluster="default") is None


@pytest.mark.parametrize(
    ("reference", "family"),
    [("app", "app"), ("app:3", "app"), ("arn:aws:ecs:eu-west-1:123456789012:task-definition/app:3", "app")],
)
def test_family_of(reference: str, family: str) -> None:
    assert family_of(reference) == family
