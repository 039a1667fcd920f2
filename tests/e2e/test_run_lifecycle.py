"""End-to-end run lifecycle: tasks followed to STOPPED, outcomes, history, policies, retries, run-now.

moto advances a task one state per DescribeTasks (RUNNING, DEACTIVATING, STOPPING,
DEPROVISIONING, STOPPED) unless `tasks_stay_running` pins it; the recording proxy gives
stopped tasks the exit code and stop code a job asks for through EXIT_CODE / STOP_CODE.
"""

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.awsproxy import AwsProxy
from tests.e2e.harness import KubeCluster, wait_for

pytestmark = pytest.mark.e2e


def soon(seconds: float = 2) -> str:
    """A one-time schedule a few seconds from now: exactly one run."""
    instant = (datetime.now(UTC) + timedelta(seconds=seconds)).replace(microsecond=0)
    return f"at({instant.strftime('%Y-%m-%dT%H:%M:%SZ')})"


def ending(**environment: str) -> dict[str, Any]:
    env = {key.upper(): value for key, value in environment.items()}
    return {"containerOverrides": [{"name": "sleeper", "environment": env}]}


def history(kube: KubeCluster, namespace: str, name: str) -> list[dict[str, Any]]:
    return list(kube.status(namespace, name).get("history") or [])


def reasons(kube: KubeCluster, namespace: str, name: str, reason: str) -> list[Any]:
    return [e for e in kube.events(namespace, name) if e.reason == reason]


def occurrences(kube: KubeCluster, namespace: str, name: str, reason: str) -> int:
    """How often an event happened: repeated Normal events are one Event with a count."""
    return sum(e.count or 1 for e in reasons(kube, namespace, name, reason))


def test_a_run_is_followed_to_stopped_and_recorded(kube: KubeCluster, aws: AwsProxy, namespace: str) -> None:
    kube.apply_job(namespace, "once", {"taskDefinition": "sleeper-task", "schedule": soon(), "taskCount": 2})
    done = wait_for(lambda: history(kube, namespace, "once"), timeout=20, what="a finished run")
    status = kube.status(namespace, "once")
    (record,) = done
    assert record["outcome"] == "Succeeded" and record["tasks"] == 2 and record["attempt"] == 1
    assert record["scheduledTime"] == status["lastRun"] == status["lastSuccessfulRun"]
    assert status.get("active", []) == []
    tasks = status["lastRunTasks"]
    assert len(tasks) == 2
    for task in tasks:
        assert task["lastStatus"] == "STOPPED" and task["stopCode"] == "EssentialContainerExited"
        assert task["containers"] == [{"name": "sleeper", "exitCode": 0}]
        assert task["stoppedAt"]
        # moto moves one state per DescribeTasks: 4 steps to STOPPED, then no more polling.
        assert aws.recorder.describes_of(task["taskArn"]) <= 5
    assert wait_for(lambda: reasons(kube, namespace, "once", "RunSucceeded"), timeout=5, what="RunSucceeded")
    # Both tasks were described in the same calls: the tracker batches, it never polls per task.
    calls = [
        c for c in aws.recorder.operations("DescribeTasks") if tasks[0]["taskArn"] in c.body.get("tasks", [])
    ]
    assert all(tasks[1]["taskArn"] in c.body["tasks"] for c in calls)


@pytest.mark.parametrize(
    ("name", "overrides", "reason_part", "stop_code"),
    [
        ("exit-3", ending(exit_code="3"), "container sleeper exited with code 3", "EssentialContainerExited"),
        ("spot", ending(exit_code="143", stop_code="SpotInterruption", stopped_reason="Spot interrupted"),
         "SpotInterruption: Spot interrupted", "SpotInterruption"),
    ],
)  # fmt: skip
def test_a_failed_run_says_why(
    kube: KubeCluster, namespace: str, name: str, overrides: dict[str, Any], reason_part: str, stop_code: str
) -> None:
    kube.apply_job(
        namespace, name, {"taskDefinition": "sleeper-task", "schedule": soon(), "overrides": overrides}
    )
    (record,) = wait_for(lambda: history(kube, namespace, name), timeout=20, what="a finished run")
    assert record["outcome"] == "Failed" and reason_part in record["reason"]
    status = kube.status(namespace, name)
    assert "lastSuccessfulRun" not in status
    assert status["lastRunTasks"][0]["stopCode"] == stop_code
    (event,) = wait_for(lambda: reasons(kube, namespace, name, "RunFailed"), timeout=5, what="RunFailed")
    assert event.type == "Warning" and reason_part in event.message


def test_history_keeps_the_latest_runs_within_limits(kube: KubeCluster, namespace: str) -> None:
    spec = {"taskDefinition": "sleeper-task", "schedule": "@every 1s", "successfulRunsHistoryLimit": 2}
    kube.apply_job(namespace, "busy", spec)
    wait_for(
        lambda: sum(1 for r in history(kube, namespace, "busy") if r["outcome"] == "Succeeded") == 2,
        timeout=20,
        what="two successes",
    )
    time.sleep(3)
    kept = history(kube, namespace, "busy")
    assert [r["outcome"] for r in kept] == ["Succeeded", "Succeeded"]
    assert kept[0]["scheduledTime"] < kept[1]["scheduledTime"], "oldest first"
    # More ran than history keeps (the series' count is written every few seconds).
    wait_for(
        lambda: occurrences(kube, namespace, "busy", "RunSucceeded") >= 4, timeout=10, what="4 RunSucceeded"
    )
    kube.delete_job(namespace, "busy")


def test_forbid_skips_fires_while_the_run_is_active(
    kube: KubeCluster, aws: AwsProxy, namespace: str, tasks_stay_running: None
) -> None:
    spec = {"taskDefinition": "sleeper-task", "schedule": "@every 2s", "concurrencyPolicy": "Forbid",
            "failedRunsHistoryLimit": 5}  # fmt: skip
    kube.apply_job(namespace, "forbid", spec)
    job = f"{namespace}/forbid"
    skipped = wait_for(lambda: [r for r in history(kube, namespace, "forbid") if r["outcome"] == "Skipped"][1:],
                       timeout=15, what="two skipped fires")  # fmt: skip
    assert len(aws.recorder.run_tasks_for(job)) == 1
    assert "still active (concurrencyPolicy Forbid)" in skipped[0]["reason"]
    assert len(kube.status(namespace, "forbid")["active"]) == 1
    assert reasons(kube, namespace, "forbid", "RunSkipped")
    kube.delete_job(namespace, "forbid")


def test_replace_stops_the_active_run_then_launches(
    kube: KubeCluster, aws: AwsProxy, namespace: str, tasks_stay_running: None
) -> None:
    spec = {"taskDefinition": "sleeper-task", "schedule": "@every 3s", "concurrencyPolicy": "Replace"}
    kube.apply_job(namespace, "replace", spec)
    job = f"{namespace}/replace"
    wait_for(lambda: len(aws.recorder.run_tasks_for(job)) >= 2, timeout=15, what="a second fire")
    first_arn = wait_for(lambda: [r for r in history(kube, namespace, "replace") if r["outcome"] == "Replaced"],
                         timeout=5, what="a replaced run")  # fmt: skip
    stops = aws.recorder.operations("StopTask")
    assert stops, "the active task was stopped"
    stop = stops[0]
    assert "concurrencyPolicy Replace" in stop.body["reason"]
    second = aws.recorder.run_tasks_for(job)[1]
    assert stop.received <= second.received, "stopped before the new launch"
    assert first_arn[0]["tasks"] == 1
    active = kube.status(namespace, "replace")["active"]
    assert len(active) == 1 and stop.body["task"] not in active[0]["taskArns"]
    kube.delete_job(namespace, "replace")


def test_retry_relaunches_a_spot_interrupted_run_up_to_max_attempts(
    kube: KubeCluster, aws: AwsProxy, namespace: str
) -> None:
    spec = {
        "taskDefinition": "sleeper-task",
        "schedule": soon(),
        "overrides": ending(exit_code="143", stop_code="SpotInterruption"),
        "retryPolicy": {"maxAttempts": 3, "backoffSeconds": 1},
        "failedRunsHistoryLimit": 5,
    }
    kube.apply_job(namespace, "spot", spec)
    job = f"{namespace}/spot"
    records = wait_for(lambda: (h := history(kube, namespace, "spot")) and len(h) == 3 and not kube.status(namespace, "spot").get("active") and h,
                       timeout=40, what="three failed attempts")  # fmt: skip
    assert [r["attempt"] for r in records] == [1, 2, 3]
    assert all(r["outcome"] == "Failed" for r in records)
    assert "retrying 1 task(s)" in records[0]["reason"] and "attempt 2 of 3" in records[0]["reason"]
    assert "retrying" not in records[2]["reason"], "a job never retries forever"
    calls = aws.recorder.run_tasks_for(job)
    assert len(calls) == 3 and len({c.body["clientToken"] for c in calls}) == 3
    assert len({c.body["tags"][-1]["value"] for c in calls}) == 1, "all attempts belong to one instant"
    time.sleep(3)
    assert len(aws.recorder.run_tasks_for(job)) == 3


def test_exit_code_failures_are_not_retried_by_default(
    kube: KubeCluster, aws: AwsProxy, namespace: str
) -> None:
    spec = {"taskDefinition": "sleeper-task", "schedule": soon(), "overrides": ending(exit_code="1"),
            "retryPolicy": {"maxAttempts": 3, "backoffSeconds": 1}}  # fmt: skip
    kube.apply_job(namespace, "exit-1", spec)
    (record,) = wait_for(lambda: history(kube, namespace, "exit-1"), timeout=20, what="the failed run")
    time.sleep(3)
    assert "retrying" not in record["reason"]
    assert len(aws.recorder.run_tasks_for(f"{namespace}/exit-1")) == 1


def test_run_now_launches_once_per_new_value(kube: KubeCluster, aws: AwsProxy, namespace: str) -> None:
    kube.apply_job(namespace, "manual", {"taskDefinition": "sleeper-task", "schedule": "0 0 1 1 *"})
    job = f"{namespace}/manual"
    wait_for(lambda: kube.ready(namespace, "manual").get("reason") == "Scheduled", timeout=10, what="Ready")
    kube.annotate(namespace, "manual", {"ecs-scheduler.dev/run-now": "first"})
    wait_for(
        lambda: kube.status(namespace, "manual").get("runNowHandled") == "first", timeout=10, what="handled"
    )
    kube.annotate(namespace, "manual", {"ecs-scheduler.dev/run-now": "first", "unrelated": "change"})
    kube.patch_spec(namespace, "manual", {"taskCount": 1})  # a new generation does not repeat it either
    time.sleep(2)
    assert len(aws.recorder.run_tasks_for(job)) == 1
    kube.annotate(namespace, "manual", {"ecs-scheduler.dev/run-now": "second"})
    wait_for(lambda: len(aws.recorder.run_tasks_for(job)) == 2, timeout=10, what="second run")
    tokens = {c.body["clientToken"] for c in aws.recorder.run_tasks_for(job)}
    assert len(tokens) == 2
    (record, *_) = wait_for(lambda: history(kube, namespace, "manual"), timeout=20, what="a finished run")
    assert record["origin"] == "RunNow"
    assert kube.status(namespace, "manual")["estimatedNextRun"].startswith(
        f"{datetime.now(UTC).year + 1}-01-01"
    )


def test_run_now_runs_a_suspended_job_once_and_it_stays_suspended(
    kube: KubeCluster, aws: AwsProxy, namespace: str
) -> None:
    # Decided as CronJob does (`kubectl create job --from` runs a suspended CronJob): suspended
    # stops the schedule, not a run someone asks for by name. The CRD and README say so.
    kube.apply_job(
        namespace, "paused", {"taskDefinition": "sleeper-task", "schedule": "@every 1s", "suspended": True}
    )
    job = f"{namespace}/paused"
    wait_for(
        lambda: kube.ready(namespace, "paused").get("reason") == "Suspended", timeout=10, what="Suspended"
    )
    time.sleep(2)
    assert aws.recorder.run_tasks_for(job) == []
    kube.annotate(namespace, "paused", {"ecs-scheduler.dev/run-now": "by hand"})
    wait_for(lambda: len(aws.recorder.run_tasks_for(job)) == 1, timeout=10, what="the run asked for")
    time.sleep(2)
    assert len(aws.recorder.run_tasks_for(job)) == 1, "the schedule ran while suspended"
    assert kube.ready(namespace, "paused")["reason"] == "Suspended"
