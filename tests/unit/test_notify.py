"""Run notifications: targets, CloudEvents, signatures, retries, refused addresses, tenant guard."""

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from ecs_scheduler.core.egress import internal_address
from ecs_scheduler.core.notify import (
    MAX_ATTEMPTS,
    cloud_event,
    event_type,
    next_attempt,
    signature,
    wanted,
)
from ecs_scheduler.core.plan import JobIdentity
from ecs_scheduler.core.tenancy import forbidden
from ecs_scheduler.model.notify import NotificationTarget
from ecs_scheduler.model.spec import ScheduledEcsJobSpec
from ecs_scheduler.model.tenancy import TenantPolicy

JOB = JobIdentity("team-a", "nightly", "3f1c-uid")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
TOPIC = "arn:aws:sns:us-east-1:123456789012:ecs-scheduler-runs"
RECORD = {"scheduledTime": "2026-11-23T09:00:00.000Z", "origin": "Schedule", "attempt": 2,
          "outcome": "Failed", "tasks": 1, "reason": "container app exited with code 3"}  # fmt: skip


@pytest.mark.parametrize(
    ("outcome", "kind"),
    [("Succeeded", "dev.ecs-scheduler.run.succeeded"), ("LaunchFailed", "dev.ecs-scheduler.run.launch-failed"),
     ("Missed", "dev.ecs-scheduler.run.missed")],
)  # fmt: skip
def test_event_types(outcome: Any, kind: str) -> None:
    assert event_type(outcome) == kind


def test_the_cloud_event_is_structured_json_with_a_deterministic_id() -> None:
    tasks = [{"taskArn": "arn:t1", "lastStatus": "STOPPED", "containers": [{"name": "app", "exitCode": 3}]}]
    event = cloud_event(JOB, RECORD, run=RECORD["scheduledTime"], now=NOW, tasks=tasks)
    body = json.loads(event.payload)
    assert body["specversion"] == "1.0" and body["type"] == "dev.ecs-scheduler.run.failed"
    assert body["source"] == "/apis/ecs-scheduler.dev/v1alpha1/namespaces/team-a/scheduledecsjobs/nightly"
    assert body["subject"] == RECORD["scheduledTime"] and body["datacontenttype"] == "application/json"
    assert body["data"]["reason"] == RECORD["reason"] and body["data"]["ecsTasks"] == tasks
    later = cloud_event(JOB, RECORD, run=RECORD["scheduledTime"], now=NOW + timedelta(hours=1))
    assert later.id == event.id == body["id"], "a repeated delivery carries the same id"
    other_attempt = cloud_event(JOB, {**RECORD, "attempt": 3}, run=RECORD["scheduledTime"], now=NOW)
    other_job = cloud_event(
        JobIdentity("team-a", "nightly", "new-uid"), RECORD, run=RECORD["scheduledTime"], now=NOW
    )
    assert len({event.id, other_attempt.id, other_job.id}) == 3


def test_the_signature_is_hmac_sha256_of_the_body() -> None:
    body = b'{"id":"x"}'
    assert signature(b"key", body) == "sha256=" + hmac.new(b"key", body, hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    ("attempts", "wait"), [(1, 5.0), (2, 15.0), (3, 60.0), (5, 900.0), (MAX_ATTEMPTS, None)]
)
def test_retries_back_off_then_stop(attempts: int, wait: float | None) -> None:
    at = next_attempt(attempts, NOW)
    assert (None if at is None else (at - NOW).total_seconds()) == wait


@pytest.mark.parametrize(
    ("host", "addresses", "refused"),
    [
        ("hooks.example.com", ["93.184.216.34"], None),
        ("metadata", ["169.254.169.254"], "bare name"),
        ("metadata.example.com", ["169.254.169.254"], "link-local"),
        ("api.example.com", ["10.0.3.7"], "internal address"),
        ("api.example.com", ["::1"], "internal address"),
        ("api.example.com", ["fe80::1%eth0"], "link-local"),
        ("grafana.monitoring.svc", [], "cluster-internal"),
        ("grafana.monitoring.svc.cluster.local", ["93.184.216.34"], "cluster-internal"),
        ("localhost", [], "cluster-internal"),
    ],
)
def test_webhooks_inside_the_cluster_or_machine_are_refused(
    host: str, addresses: list[str], refused: str | None
) -> None:
    reason = internal_address(host, addresses)
    assert (reason is None) if refused is None else (reason is not None and refused in reason)


def target(**kind: Any) -> dict[str, Any]:
    return {"outcomes": ["Failed"], **kind}


WEBHOOK = {"url": "https://hooks.example.com:8443/ecs", "secretRef": {"name": "hook", "key": "key"}}


@pytest.mark.parametrize(
    ("raw", "valid"),
    [
        (target(sns={"topicArn": TOPIC}), True),
        (target(sqs={"queueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/q"}), True),
        (target(webhook=WEBHOOK), True),
        (target(), False),
        (target(sns={"topicArn": TOPIC}, webhook=WEBHOOK), False),
        (target(webhook={**WEBHOOK, "url": "http://hooks.example.com/ecs"}), False),
        (target(sns={"topicArn": "arn:aws:sqs:us-east-1:123456789012:q"}), False),
        ({"outcomes": ["Exploded"], "sns": {"topicArn": TOPIC}}, False),
    ],
)
def test_a_target_is_exactly_one_kind(raw: dict[str, Any], valid: bool) -> None:
    if valid:
        NotificationTarget.model_validate(raw)
    else:
        with pytest.raises(ValidationError):
            NotificationTarget.model_validate(raw)


def test_default_outcomes_are_the_ones_somebody_must_act_on() -> None:
    chosen = NotificationTarget.model_validate({"sns": {"topicArn": TOPIC}})
    assert wanted([chosen], "Failed") == [chosen] and wanted([chosen], "Succeeded") == []
    assert NotificationTarget.model_validate({"webhook": WEBHOOK}).webhook.host == "hooks.example.com"  # type: ignore[union-attr]


POLICY = TenantPolicy.model_validate(
    {"namespaces": {"team-a": {"notificationTopics": ["arn:aws:sns:*:123456789012:team-a-*"],
                               "notificationQueues": ["https://sqs.us-east-1.amazonaws.com/123456789012/team-a-*"],
                               "webhookHosts": ["*.team-a.example.com"]}}}
)  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        ({"sns": {"topicArn": "arn:aws:sns:us-east-1:123456789012:team-a-runs"}}, None),
        ({"sns": {"topicArn": "arn:aws:sns:us-east-1:123456789012:team-b-runs"}}, "spec.notifications[1].sns.topicArn"),
        ({"sqs": {"queueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/team-b-q"}}, "spec.notifications[1].sqs.queueUrl"),
        ({"webhook": {**WEBHOOK, "url": "https://ci.team-a.example.com/hook"}}, None),
        ({"webhook": WEBHOOK}, "spec.notifications[1].webhook.url"),
    ],
)  # fmt: skip
def test_the_tenant_guard_names_the_denied_target(kind: dict[str, Any], field: str | None) -> None:
    allowed_first = {"sqs": {"queueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/team-a-q"}}
    spec = ScheduledEcsJobSpec.model_validate(
        {"taskDefinition": "app", "schedule": "@hourly", "notifications": [allowed_first, kind]}
    )
    denied = forbidden(POLICY, namespace="team-a", spec=spec, default_cluster="default")
    assert (denied.field if denied else None) == field
