"""RunTask requests are built by pure functions and compared by equality."""

from datetime import UTC, datetime

import pytest

from ecs_scheduler.core.plan import (
    JobIdentity,
    client_token,
    job_tag_value,
    overrides_size,
    run_task_calls,
    split_counts,
)
from ecs_scheduler.model.aws import AssumedRole, AwsScope
from ecs_scheduler.model.spec import Overrides, ScheduledEcsJobSpec

JOB = JobIdentity("team-a", "nightly", "0b7d6a38-5a2c-4a3e-9d36-2b1b4bfb9a11")
INSTANT = datetime(2026, 11, 22, 5, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("total", "expected"),
    [(1, [1]), (10, [10]), (11, [10, 1]), (23, [10, 10, 3]), (50, [10] * 5), (60, [10] * 5), (0, [])],
)
def test_split_counts(total: int, expected: list[int]) -> None:
    assert split_counts(total) == expected


def test_client_token_is_deterministic_and_distinct() -> None:
    token = client_token(JOB.uid, INSTANT, 0)
    assert token == client_token(JOB.uid, INSTANT, 0)
    assert len(token) <= 64
    assert token != client_token(JOB.uid, INSTANT, 1)
    assert token != client_token(JOB.uid, datetime(2026, 11, 22, 5, 0, 1, tzinfo=UTC), 0)
    assert token != client_token("another-uid", INSTANT, 0)


def test_tokens_in_other_accounts_are_unique_per_cluster_arn() -> None:
    own = client_token(JOB.uid, INSTANT, 0)
    in_b = client_token(JOB.uid, INSTANT, 0, place="222222222222:eu-west-1:batch")
    assert len({own, in_b, client_token(JOB.uid, INSTANT, 0, place="333333333333:eu-west-1:batch"),
                client_token(JOB.uid, INSTANT, 0, place="222222222222:eu-west-1:other")}) == 4  # fmt: skip
    assert in_b == client_token(JOB.uid, INSTANT, 0, place="222222222222:eu-west-1:batch")
    spec = ScheduledEcsJobSpec.model_validate(
        {"taskDefinition": "t", "schedule": "@daily", "cluster": "batch"}
    )
    role = AssumedRole("arn:aws:iam::222222222222:role/r", "ecs-scheduler-ns")
    (call,) = run_task_calls(spec, job=JOB, instant=INSTANT, task_count=1, default_cluster="c",
                             scope=AwsScope("eu-west-1", role), started_by="s")  # fmt: skip
    assert call.client_token == in_b
    (plain,) = run_task_calls(spec, job=JOB, instant=INSTANT, task_count=1, default_cluster="c",
                              scope=AwsScope("eu-west-1"), started_by="s")  # fmt: skip
    assert plain.client_token == own, "jobs in the operator's own account keep the tokens they always had"


def test_minimal_request() -> None:
    spec = ScheduledEcsJobSpec.model_validate({"taskDefinition": "sleeper-task", "schedule": "@hourly"})
    calls = run_task_calls(
        spec, job=JOB, instant=INSTANT, task_count=1, default_cluster="main", scope=AwsScope("eu-west-1"),
        started_by="ecs-scheduler",
    )  # fmt: skip
    assert [c.scope for c in calls] == [AwsScope("eu-west-1")]
    assert calls[0].request == {
        "cluster": "main",
        "taskDefinition": "sleeper-task",
        "startedBy": "ecs-scheduler",
        "tags": [
            {"key": "ecs-scheduler.dev/job", "value": "team-a/nightly"},
            {"key": "ecs-scheduler.dev/scheduled-at", "value": "2026-11-22T05:00:00Z"},
        ],
        "count": 1,
        "clientToken": client_token(JOB.uid, INSTANT, 0),
    }


def test_full_request() -> None:
    spec = ScheduledEcsJobSpec.model_validate(
        {
            "taskDefinition": "arn:aws:ecs:eu-west-1:123456789012:task-definition/report:7",
            "schedule": "@daily",
            "cluster": "batch",
            "region": "us-east-2",
            "launchType": "FARGATE",
            "platformVersion": "1.4.0",
            "networkConfiguration": {
                "awsvpcConfiguration": {
                    "subnets": ["subnet-1"],
                    "securityGroups": ["sg-1"],
                    "assignPublicIp": "DISABLED",
                }
            },
            "overrides": {
                "containerOverrides": [
                    {"name": "app", "environment": {"MODE": "full"}, "command": ["run"], "memory": 512}
                ],
                "taskRoleArn": "arn:aws:iam::123456789012:role/report",
                "cpu": "512",
            },
            "propagateTags": "TASK_DEFINITION",
            "enableECSManagedTags": True,
            "enableExecuteCommand": False,
            "group": "reports",
            "tags": {"team": "data"},
        }
    )
    (call,) = run_task_calls(
        spec, job=JOB, instant=INSTANT, task_count=2, default_cluster="main", scope=AwsScope("us-east-2"),
        started_by="scheduler-x",
    )  # fmt: skip
    assert call.scope == AwsScope("us-east-2")
    assert call.request == {
        "cluster": "batch",
        "taskDefinition": "arn:aws:ecs:eu-west-1:123456789012:task-definition/report:7",
        "startedBy": "scheduler-x",
        "overrides": {
            "containerOverrides": [
                {
                    "name": "app",
                    "environment": [{"name": "MODE", "value": "full"}],
                    "command": ["run"],
                    "memory": 512,
                }
            ],
            "cpu": "512",
            "taskRoleArn": "arn:aws:iam::123456789012:role/report",
        },
        "launchType": "FARGATE",
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": ["subnet-1"],
                "securityGroups": ["sg-1"],
                "assignPublicIp": "DISABLED",
            }
        },
        "platformVersion": "1.4.0",
        "propagateTags": "TASK_DEFINITION",
        "enableECSManagedTags": True,
        "enableExecuteCommand": False,
        "group": "reports",
        "tags": [
            {"key": "team", "value": "data"},
            {"key": "ecs-scheduler.dev/job", "value": "team-a/nightly"},
            {"key": "ecs-scheduler.dev/scheduled-at", "value": "2026-11-22T05:00:00Z"},
        ],
        "count": 2,
        "clientToken": client_token(JOB.uid, INSTANT, 0),
    }


def test_capacity_providers_and_placement() -> None:
    spec = ScheduledEcsJobSpec.model_validate(
        {
            "taskDefinition": "t",
            "schedule": "@daily",
            "capacityProviderStrategy": [
                {"capacityProvider": "FARGATE_SPOT", "weight": 3},
                {"capacityProvider": "FARGATE", "base": 1},
            ],
            "placementConstraints": [
                {"type": "memberOf", "expression": "attribute:ecs.instance-type =~ t3.*"}
            ],
            "placementStrategy": [{"type": "spread", "field": "attribute:ecs.availability-zone"}],
        }
    )
    (call,) = run_task_calls(
        spec,
        job=JOB,
        instant=INSTANT,
        task_count=1,
        default_cluster="c",
        scope=AwsScope(None),
        started_by="s",
    )
    assert call.request["capacityProviderStrategy"] == [
        {"capacityProvider": "FARGATE_SPOT", "weight": 3},
        {"capacityProvider": "FARGATE", "base": 1},
    ]
    assert call.request["placementConstraints"] == [
        {"type": "memberOf", "expression": "attribute:ecs.instance-type =~ t3.*"}
    ]
    assert call.request["placementStrategy"] == [
        {"type": "spread", "field": "attribute:ecs.availability-zone"}
    ]
    assert "launchType" not in call.request


def test_twenty_three_tasks_make_three_calls_with_their_own_tokens() -> None:
    spec = ScheduledEcsJobSpec.model_validate({"taskDefinition": "t", "schedule": "@daily", "taskCount": 23})
    calls = run_task_calls(
        spec,
        job=JOB,
        instant=INSTANT,
        task_count=23,
        default_cluster="c",
        scope=AwsScope(None),
        started_by="s",
    )
    assert [c.count for c in calls] == [10, 10, 3]
    assert [c.client_token for c in calls] == [client_token(JOB.uid, INSTANT, i) for i in range(3)]


def test_overrides_size_counts_json_characters() -> None:
    overrides = Overrides.model_validate({"containerOverrides": [{"name": "c", "environment": {"K": "v"}}]})
    assert overrides_size(overrides) == len(
        '{"containerOverrides":[{"name":"c","environment":[{"name":"K","value":"v"}]}]}'
    )


def test_run_now_and_retry_attempts_get_their_own_stable_tokens() -> None:
    scheduled = client_token(JOB.uid, INSTANT, 0)
    manual = client_token(JOB.uid, INSTANT, 0, run_now="ticket-42")
    # A run-now token ignores the instant (the moment it was seen changes on a restart).
    assert manual == client_token(JOB.uid, datetime(2030, 1, 1, tzinfo=UTC), 0, run_now="ticket-42")
    assert manual != client_token(JOB.uid, INSTANT, 0, run_now="ticket-43")
    second = client_token(JOB.uid, INSTANT, 0, attempt=2)
    assert len({scheduled, manual, second, client_token(JOB.uid, INSTANT, 0, attempt=3)}) == 4
    assert second == client_token(JOB.uid, INSTANT, 0, attempt=2)
    assert scheduled == client_token(JOB.uid, INSTANT, 0, attempt=1), "first attempts keep their token"


@pytest.mark.parametrize(
    ("key", "kept_whole"),
    [
        ("team/job", True),
        ("n" * 63 + "/" + "j" * 192, True),  # 256 characters: still the key itself
        ("n" * 63 + "/" + "j" * 193, False),
        ("n" * 63 + "/" + "j" * 253, False),  # the longest name Kubernetes allows
    ],
)  # fmt: skip
def test_the_job_tag_value_fits_ecs_and_stays_unique(key: str, kept_whole: bool) -> None:
    value = job_tag_value(key)
    assert len(value) <= 256
    assert (value == key) is kept_whole
    if not kept_whole:
        assert value.startswith(key[:200]) and "@" in value
        assert job_tag_value(key[:-1] + "x") != value  # names differing only at the end differ here too
