"""Runs on demand (ScheduledEcsJobRun): a run now with its own environment, command and task
count; a backfill of past instants, each launched once, skipping what the job already ran;
cancel by deleting; deleted after its time to live; refused with the field named."""

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import kubernetes
import pytest

from tests.e2e.awsproxy import AwsProxy, Call
from tests.e2e.harness import KubeCluster, wait_for
from tests.e2e.test_restarts import two_replicas
from tests.unit.test_helm_chart import for_people, of_kind

pytestmark = [pytest.mark.e2e]

NEVER_DURING_THE_TEST = "0 0 1 1 *"


def phase(kube: KubeCluster, namespace: str, name: str, *wanted: str) -> dict[str, Any] | None:
    status = kube.run(namespace, name).get("status") or {}
    return status if status.get("phase") in wanted else None


def scheduled_at(call: Call) -> str:
    return next(t["value"] for t in call.body["tags"] if t["key"] == "ecs-scheduler.dev/scheduled-at")


def run_events(kube: KubeCluster, namespace: str, name: str) -> dict[str, str]:
    return {
        e.reason: e.type
        for e in kube.events(namespace, name)
        if e.involved_object.kind == "ScheduledEcsJobRun"
    }


def test_a_run_now_carries_its_own_environment_command_and_count_and_leaves_the_job_alone(
    kube: KubeCluster, aws: AwsProxy, namespace: str
) -> None:
    job_spec = {"taskDefinition": "sleeper-task", "schedule": NEVER_DURING_THE_TEST,
                "overrides": {"containerOverrides": [{"name": "sleeper", "environment": {"MODE": "nightly"}}]}}  # fmt: skip
    job = kube.apply_job(namespace, "etl", job_spec)
    kube.create_run(namespace, "etl-manual", {
        "jobName": "etl", "taskCount": 2, "ttlSecondsAfterFinished": 3,
        "overrides": {"environment": {"DATE": "2026-11-28"}, "command": ["etl", "--full"]},
    })  # fmt: skip
    status = wait_for(
        lambda: phase(kube, namespace, "etl-manual", "Succeeded", "Failed"), timeout=40, what="the run's end"
    )
    assert status["phase"] == "Succeeded", status
    (call,) = aws.recorder.run_tasks_for(f"{namespace}/etl")
    assert call.body["count"] == 2
    assert call.body["overrides"]["containerOverrides"] == [{
        "name": "sleeper",
        "environment": [{"name": "MODE", "value": "nightly"}, {"name": "DATE", "value": "2026-11-28"}],
        "command": ["etl", "--full"],
    }]  # fmt: skip
    assert (status["total"], status["succeeded"], status["failed"]) == (1, 1, 0)
    (instant,) = status["instants"]
    assert instant["outcome"] == "Succeeded" and len(instant["tasks"]) == 2
    assert all(t["lastStatus"] == "STOPPED" for t in instant["tasks"])
    assert status["startTime"] and status["completionTime"] and status["jobUid"] == job["metadata"]["uid"]
    # Owned by its job (garbage-collected with it); the job's spec was never touched.
    (owner,) = kube.run(namespace, "etl-manual")["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["name"], owner["uid"]) == ("ScheduledEcsJob", "etl", job["metadata"]["uid"])
    after = kube.job(namespace, "etl")
    assert after["metadata"]["generation"] == 1 and after["spec"] == job["spec"]
    (record,) = after["status"]["history"]
    assert (record["origin"], record["request"], record["outcome"]) == ("RunNow", "etl-manual", "Succeeded")
    assert wait_for(lambda: run_events(kube, namespace, "etl-manual").get("Completed"), timeout=10,
                    what="a Completed event on the run") == "Normal"  # fmt: skip
    # Deleted a few seconds after it finished (ttlSecondsAfterFinished).
    wait_for(
        lambda: not kube.run_exists(namespace, "etl-manual"), timeout=20, what="the finished run deleted"
    )


def test_a_backfill_runs_each_instant_once_in_order_and_skips_what_already_ran(
    kube: KubeCluster, aws: AwsProxy, namespace: str
) -> None:
    # Suspended: no scheduled fire joins in when the test spans the top of an hour (a backfill
    # runs a suspended job, as run-now does).
    kube.apply_job(namespace, "hourly", {"taskDefinition": "sleeper-task", "schedule": "0 * * * *",
                                          "successfulRunsHistoryLimit": 20, "suspended": True})  # fmt: skip
    top = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)

    def hours_ago(hours: int) -> str:
        return (top - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def backfilled() -> list[Call]:
        return [
            c for c in aws.recorder.run_tasks_for(f"{namespace}/hourly") if scheduled_at(c) < hours_ago(0)
        ]

    kube.create_run(namespace, "outage", {"jobName": "hourly",
                                          "backfill": {"from": hours_ago(6), "to": hours_ago(1), "parallelism": 2}})  # fmt: skip
    status = wait_for(
        lambda: phase(kube, namespace, "outage", "Succeeded", "Failed"), timeout=60, what="the backfill's end"
    )
    assert (status["phase"], status["total"], status["succeeded"], status["skipped"]) == (
        "Succeeded",
        6,
        6,
        0,
    )
    assert [p[:19] for p in status["planned"]] == [hours_ago(h)[:19] for h in range(6, 0, -1)]
    calls = backfilled()
    instants = [hours_ago(h) for h in range(6, 0, -1)]
    order = [instants.index(scheduled_at(c)) for c in calls]
    assert sorted(order) == list(range(6)), "each instant once"
    # In instant order, two at a time (two RunTasks sent together may arrive in either order).
    assert all(index <= position + 1 for position, index in enumerate(order)), order
    assert len({c.body["clientToken"] for c in calls}) == 6
    # The job's history is written by the job's own status writes, which may land after the run's.
    wait_for(lambda: sorted(e["scheduledTime"][:19] for e in kube.status(namespace, "hourly").get("history", [])
                            if e.get("origin") == "Backfill") == [hours_ago(h)[:19] for h in range(6, 0, -1)],
             timeout=15, what="the six backfill records in the job's history")  # fmt: skip
    assert "lastRun" not in kube.status(namespace, "hourly"), "a backfill does not move the job's last run"

    # Overlapping the first: the four instants the job's history has are skipped.
    kube.create_run(namespace, "outage-wider", {"jobName": "hourly",
                                                "backfill": {"from": hours_ago(8), "to": hours_ago(3), "parallelism": 3}})  # fmt: skip
    status = wait_for(
        lambda: phase(kube, namespace, "outage-wider", "Succeeded", "Failed"),
        timeout=60,
        what="the second backfill's end",
    )
    assert (status["total"], status["succeeded"], status["skipped"]) == (6, 2, 4)
    assert sorted(scheduled_at(c) for c in backfilled()) == sorted([hours_ago(h) for h in range(8, 0, -1)])


def test_deleting_a_backfill_launches_nothing_more(kube: KubeCluster, aws: AwsProxy, namespace: str) -> None:
    kube.apply_job(
        namespace, "daily", {"taskDefinition": "sleeper-task", "schedule": "0 3 * * *", "suspended": True}
    )
    start = (datetime.now(UTC) - timedelta(days=30)).strftime("%Y-%m-%dT00:00:00Z")
    end = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%dT00:00:00Z")
    kube.create_run(namespace, "month", {"jobName": "daily", "backfill": {"from": start, "to": end}})
    wait_for(
        lambda: len(aws.recorder.run_tasks_for(f"{namespace}/daily")) >= 2,
        timeout=40,
        what="two instants launched",
    )
    kube.delete_run(namespace, "month")
    at_delete = len(aws.recorder.run_tasks_for(f"{namespace}/daily"))
    wait_for(lambda: not kube.run_exists(namespace, "month"), timeout=10, what="deleted")
    # One instant each ~5 s (tasks take four DescribeTasks to stop): 10 s would show two more.
    time.sleep(10)
    assert len(aws.recorder.run_tasks_for(f"{namespace}/daily")) <= at_delete + 1


@pytest.mark.parametrize(
    ("run_spec", "field"),
    [
        ({"jobName": "plain", "overrides": {"environment": {"DATE": "d"}}}, "spec.overrides.container"),
        ({"jobName": "plain", "backfill": {"from": "2026-01-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"}},
         "spec.backfill"),
    ],
)  # fmt: skip
def test_a_run_that_cannot_be_done_fails_naming_its_field(
    kube: KubeCluster, aws: AwsProxy, namespace: str, run_spec: dict[str, Any], field: str
) -> None:
    kube.apply_job(
        namespace, "plain", {"taskDefinition": "sleeper-task", "schedule": "0 * * * *", "suspended": True}
    )
    kube.create_run(namespace, "bad", run_spec)
    status = wait_for(lambda: phase(kube, namespace, "bad", "Failed"), timeout=20, what="the run refused")
    (condition,) = status["conditions"]
    assert (condition["type"], condition["reason"]) == ("Failed", "InvalidRun")
    assert condition["message"].startswith(field), condition["message"]
    assert (
        wait_for(lambda: run_events(kube, namespace, "bad").get("InvalidRun"), timeout=10, what="an event")
        == "Warning"
    )
    assert aws.recorder.run_tasks_for(f"{namespace}/plain") == []


def test_a_run_waits_for_its_job_and_starts_once_it_exists(
    kube: KubeCluster, aws: AwsProxy, namespace: str
) -> None:
    kube.create_run(namespace, "early", {"jobName": "later"})
    status = wait_for(lambda: phase(kube, namespace, "early", "Pending"), timeout=15, what="pending")
    assert "does not exist" in status["conditions"][0]["message"]
    kube.apply_job(namespace, "later", {"taskDefinition": "sleeper-task", "schedule": NEVER_DURING_THE_TEST})
    wait_for(
        lambda: phase(kube, namespace, "early", "Succeeded"), timeout=40, what="the run once the job exists"
    )
    assert len(aws.recorder.run_tasks_for(f"{namespace}/later")) == 1


def test_a_backfill_goes_on_after_its_leader_is_killed_each_instant_launched_once(
    workdir: Path, kube: KubeCluster, aws: AwsProxy, ecs_setup: dict[str, str], own_namespace: str
) -> None:
    namespace = own_namespace
    replicas = two_replicas(workdir, kube, aws, namespace, "--lease-duration", "4", "--lease-retry", "0.5")
    try:
        kube.apply_job(namespace, "hourly", {"taskDefinition": "sleeper-task", "schedule": "0 * * * *",
                                              "successfulRunsHistoryLimit": 50, "suspended": True})  # fmt: skip
        top = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        expected = [(top - timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M:%SZ") for h in range(24, 0, -1)]
        kube.create_run(namespace, "day", {"jobName": "hourly",
                                           "backfill": {"from": expected[0], "to": expected[-1], "parallelism": 3}})  # fmt: skip

        def backfilled() -> list[Call]:
            return [
                c
                for c in aws.recorder.run_tasks_for(f"{namespace}/hourly")
                if scheduled_at(c) <= expected[-1]
            ]

        wait_for(lambda: len(backfilled()) >= 12, timeout=90, what="half of the instants launched")
        leader = kube.lease(namespace, "ecs-scheduler")["spec"]["holderIdentity"]
        replicas[leader].kill()
        status = wait_for(lambda: phase(kube, namespace, "day", "Succeeded", "Failed"), timeout=150,
                          what="the backfill's end under the new leader")  # fmt: skip
        assert (status["phase"], status["succeeded"], status["total"]) == ("Succeeded", 24, 24), status
        assert kube.lease(namespace, "ecs-scheduler")["spec"]["holderIdentity"] != leader
        started = [c for c in backfilled() if not c.deduplicated]
        assert sorted(scheduled_at(c) for c in started) == expected, "each instant started exactly once"
        tokens: dict[str, set[str]] = {}
        for call in backfilled():
            tokens.setdefault(scheduled_at(call), set()).add(call.body["clientToken"])
        assert all(len(found) == 1 for found in tokens.values()), "a repeat sends the instant's own token"
    finally:
        for replica in replicas.values():
            replica.stop()


def test_the_runner_role_starts_runs_without_being_able_to_change_jobs(
    workdir: Path, kube: KubeCluster, namespace: str
) -> None:
    if not kube.real:
        pytest.skip("the test API server authorizes every request; RBAC is judged by kube-apiserver")
    (runner,) = [
        r for r in of_kind({}, "ClusterRole") if for_people(r) and r["metadata"]["name"].endswith("-runner")
    ]
    runner["metadata"]["name"] = f"{namespace}-runner"  # one per test run: cluster-scoped
    kube.apply(runner)
    kube.apply(
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "owner", "namespace": namespace}}
    )
    kube.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": {"name": "owner-runs", "namespace": namespace},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": f"{namespace}-runner"},
                "subjects": [{"kind": "ServiceAccount", "name": "owner", "namespace": namespace}]})  # fmt: skip
    kube.apply_job(namespace, "etl", {"taskDefinition": "sleeper-task", "schedule": NEVER_DURING_THE_TEST})
    configuration = kubernetes.client.Configuration()
    kubeconfig = kube.service_account_kubeconfig(
        namespace, "owner", workdir / f"{namespace}-owner.kubeconfig"
    )
    kubernetes.config.load_kube_config(str(kubeconfig), client_configuration=configuration)
    with kubernetes.client.ApiClient(configuration) as client:
        as_owner = kubernetes.client.CustomObjectsApi(client)
        group, version = "ecs-scheduler.dev", "v1alpha1"
        assert as_owner.get_namespaced_custom_object(group, version, namespace, "scheduledecsjobs", "etl")
        body = {"apiVersion": f"{group}/{version}", "kind": "ScheduledEcsJobRun", "metadata": {"name": "by-owner"},
                "spec": {"jobName": "etl"}}  # fmt: skip
        wait_for(lambda: as_owner.create_namespaced_custom_object(group, version, namespace, "scheduledecsjobruns", body),
                 timeout=10, what="the owner may create a run")  # fmt: skip
        with pytest.raises(kubernetes.client.ApiException) as refused:
            as_owner.patch_namespaced_custom_object(group, version, namespace, "scheduledecsjobs", "etl",
                                                    {"spec": {"suspended": True}})  # fmt: skip
        assert refused.value.status == 403
    wait_for(lambda: phase(kube, namespace, "by-owner", "Succeeded"), timeout=40, what="the owner's run")
