"""End-to-end tenant guard: a job outside its namespace's allowance never launches."""

from pathlib import Path

import pytest

from tests.e2e.awsproxy import AwsProxy
from tests.e2e.conftest import StartOperator
from tests.e2e.harness import KubeCluster, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]


def test_jobs_outside_the_allowance_are_forbidden_and_the_others_run(
    kube: KubeCluster, aws: AwsProxy, own_namespace: str, start_operator: StartOperator, workdir: Path
) -> None:
    namespace = own_namespace
    policy = workdir / f"{namespace}-tenants.yaml"
    policy.write_text(
        f"namespaces:\n  {namespace}:\n    clusters: [default]\n    taskDefinitionFamilies: [sleeper-*]\n"
        "    roles: ['arn:aws:iam::123456789012:role/team-*']\n"
        "    notificationTopics: ['arn:aws:sns:*:123456789012:team-*']\n    webhookHosts: []\n"
    )
    start_operator("--tenant-policy", str(policy))
    jobs = {
        "allowed": {"taskDefinition": "sleeper-task"},
        "other-family": {"taskDefinition": "env-task"},
        "other-cluster": {"taskDefinition": "sleeper-task", "cluster": "production"},
        "foreign-role": {"taskDefinition": "sleeper-task",
                         "overrides": {"taskRoleArn": "arn:aws:iam::123456789012:role/admin"}},
        "foreign-topic": {"taskDefinition": "sleeper-task", "notifications": [
            {"sns": {"topicArn": "arn:aws:sns:us-east-1:123456789012:team-runs"}},
            {"sns": {"topicArn": "arn:aws:sns:us-east-1:123456789012:everyone"}}]},
        "any-webhook": {"taskDefinition": "sleeper-task", "notifications": [
            {"webhook": {"url": "https://hooks.example.com/x", "secretRef": {"name": "s", "key": "k"}}}]},
    }  # fmt: skip
    for name, fields in jobs.items():
        kube.apply_job(namespace, name, {"schedule": "@every 1s", **fields})
    wait_for(
        lambda: len(aws.recorder.run_tasks_for(f"{namespace}/allowed")) >= 2, timeout=15, what="allowed runs"
    )
    for name, field in (("other-family", "spec.taskDefinition"), ("other-cluster", "spec.cluster"),
                        ("foreign-role", "spec.overrides.taskRoleArn"),
                        ("foreign-topic", "spec.notifications[1].sns.topicArn"),
                        ("any-webhook", "spec.notifications[0].webhook.url")):  # fmt: skip
        ready = wait_for(lambda n=name: kube.ready(namespace, n).get("reason") == "Forbidden" and kube.ready(namespace, n),
                         timeout=10, what=f"{name} Forbidden")  # fmt: skip
        assert ready["status"] == "False" and ready["message"].startswith(f"{field}:")
        assert any(e.reason == "Forbidden" and e.type == "Warning" for e in kube.events(namespace, name))
        assert aws.recorder.run_tasks_for(f"{namespace}/{name}") == []
    kube.annotate(namespace, "other-family", {"ecs-scheduler.dev/run-now": "please"})
    wait_for(
        lambda: kube.status(namespace, "other-family").get("runNowHandled") == "please",
        timeout=10,
        what="handled",
    )
    assert aws.recorder.run_tasks_for(f"{namespace}/other-family") == [], (
        "run-now cannot get around the guard"
    )
