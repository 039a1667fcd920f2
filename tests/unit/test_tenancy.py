"""The tenant guard: allowances per namespace, matched by pattern, naming the field that is out."""

from typing import Any

import pytest

from ecs_scheduler.core.tenancy import family_of, forbidden, repository_of, scope_of
from ecs_scheduler.model.aws import AssumedRole, AwsScope, session_name
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
        # A name pattern does not allow another account's cluster of the same name.
        ("cluster of another account", "team-a", {"cluster": "arn:aws:ecs:eu-west-1:999999999999:cluster/batch"},
         "spec.cluster"),
        ("other cluster", "team-a", {"cluster": "prod"}, "spec.cluster"),
        ("default cluster not in the list", "team-a", {}, "spec.cluster"),
        ("family by ARN", "team-a", {"cluster": "batch",
         "taskDefinition": "arn:aws:ecs:eu-west-1:123456789012:task-definition/shared-report:9"}, None),
        ("family of another account", "team-a", {"cluster": "batch",
         "taskDefinition": "arn:aws:ecs:eu-west-1:999999999999:task-definition/shared-report:9"}, "spec.taskDefinition"),
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
    error = forbidden(
        POLICY,
        namespace=namespace,
        spec=spec(**fields),
        default_cluster="default",
        home_account="123456789012",
    )
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


ROLE_B = "arn:aws:iam::222222222222:role/ecs-scheduler-target"
ACCOUNTS = TenantPolicy.model_validate(
    {
        "namespaces": {
            "team-b": {
                "assumeRoles": ["arn:aws:iam::222222222222:role/*"],
                "defaultRoleArn": ROLE_B,
                "externalId": "team-b-secret",
                "imageRepositories": ["123456789012.dkr.ecr.eu-west-1.amazonaws.com/team-b/*", "busybox"],
                "roles": ["arn:aws:iam::222222222222:role/team-b-*"],
            },
            "no-images": {"imageRepositories": []},
            "bad-default": {"assumeRoles": [], "defaultRoleArn": ROLE_B},
        }
    }
)
CONTAINER = {"image": "busybox:1.36", "memory": 64}


@pytest.mark.parametrize(
    ("name", "namespace", "fields", "field"),
    [
        ("allowed image", "team-b", {"container": CONTAINER}, None),
        ("image by repository pattern", "team-b",
         {"container": {**CONTAINER, "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team-b/etl@sha256:" + "ab" * 32}}, None),
        ("other repository", "team-b", {"container": {**CONTAINER, "image": "evil/miner:latest"}}, "spec.container.image"),
        ("no images allowed", "no-images", {"container": CONTAINER}, "spec.container.image"),
        ("allowed container role", "team-b",
         {"container": {**CONTAINER, "taskRoleArn": "arn:aws:iam::222222222222:role/team-b-app"}}, None),
        ("foreign container task role", "team-b",
         {"container": {**CONTAINER, "taskRoleArn": "arn:aws:iam::222222222222:role/admin"}}, "spec.container.taskRoleArn"),
        ("foreign container execution role", "team-b",
         {"container": {**CONTAINER, "executionRoleArn": "arn:aws:iam::222222222222:role/admin"}},
         "spec.container.executionRoleArn"),
        ("allowed role to assume", "team-b", {"roleArn": "arn:aws:iam::222222222222:role/other"}, None),
        ("role in another account", "team-b", {"roleArn": "arn:aws:iam::333333333333:role/x"}, "spec.roleArn"),
        ("a default role not allowed either", "bad-default", {}, "spec.roleArn (the namespace's defaultRoleArn)"),
    ],
)  # fmt: skip
def test_images_and_roles(name: str, namespace: str, fields: dict[str, Any], field: str | None) -> None:
    raw = {"schedule": "@daily", **fields}
    if "container" not in raw:
        raw["taskDefinition"] = "app"
    job = ScheduledEcsJobSpec.model_validate(raw)
    error = forbidden(ACCOUNTS, namespace=namespace, spec=job, default_cluster="default")
    assert (error.field if error else None) == field, name


@pytest.mark.parametrize(
    ("image", "repository"),
    [
        ("busybox", "busybox"),
        ("busybox:1.36", "busybox"),
        ("registry:5000/team/app", "registry:5000/team/app"),
        ("registry:5000/team/app:1.2", "registry:5000/team/app"),
        ("team/app@sha256:0123", "team/app"),
        (
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:v1",
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app",
        ),
    ],
)
def test_repository_of(image: str, repository: str) -> None:
    assert repository_of(image) == repository


@pytest.mark.parametrize(
    ("namespace", "fields", "expected"),
    [
        ("team-b", {}, AwsScope("eu-west-1", AssumedRole(ROLE_B, "ecs-scheduler-team-b", "team-b-secret"))),
        ("team-b", {"roleArn": "arn:aws:iam::222222222222:role/x", "region": "us-east-2"},
         AwsScope("us-east-2", AssumedRole("arn:aws:iam::222222222222:role/x", "ecs-scheduler-team-b", "team-b-secret"))),
        ("unlisted", {}, AwsScope("eu-west-1")),
        ("unlisted", {"roleArn": ROLE_B}, AwsScope("eu-west-1", AssumedRole(ROLE_B, "ecs-scheduler-unlisted"))),
    ],
)  # fmt: skip
def test_scope_of(namespace: str, fields: dict[str, Any], expected: AwsScope) -> None:
    job = ScheduledEcsJobSpec.model_validate({"taskDefinition": "app", "schedule": "@daily", **fields})
    assert scope_of(ACCOUNTS, namespace=namespace, spec=job, default_region="eu-west-1") == expected
    assert expected.account == ("222222222222" if expected.role else "")


def test_session_names_fit_sts() -> None:
    assert len(session_name("n" * 63)) == 64
