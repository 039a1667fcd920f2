"""End-to-end: the operator process against an API server and moto over HTTP."""

import time
from datetime import datetime

import pytest

from tests.e2e.awsproxy import AwsProxy
from tests.e2e.harness import KubeCluster, MotoServer, wait_for

pytestmark = pytest.mark.e2e


def parse(instant: str) -> datetime:
    return datetime.fromisoformat(instant.replace("Z", "+00:00"))


def scheduled_at(call_tags: list[dict[str, str]]) -> datetime:
    value = next(t["value"] for t in call_tags if t["key"] == "ecs-scheduler.dev/scheduled-at")
    return parse(value)


def test_job_every_two_seconds_launches_on_time_and_reports_status(
    kube: KubeCluster, aws: AwsProxy, moto: MotoServer, namespace: str
) -> None:
    kube.apply_job(namespace, "sleeper", {"taskDefinition": "sleeper-task", "schedule": "@every 2s"})
    job = f"{namespace}/sleeper"
    calls = wait_for(lambda: len(aws.recorder.run_tasks_for(job)) >= 4 and aws.recorder.run_tasks_for(job),
                     timeout=15, what="four fires")  # fmt: skip
    instants = [scheduled_at(c.body["tags"]) for c in calls]
    assert len(set(instants)) == len(instants), "one RunTask per instant"
    assert all(i.second % 2 == 0 and i.microsecond == 0 for i in instants)
    lateness = [c.received - scheduled_at(c.body["tags"]).timestamp() for c in calls]
    assert all(-0.05 <= late < 1.0 for late in lateness), lateness
    status = wait_for(lambda: (s := kube.status(namespace, "sleeper")).get("lastRunTasks") and s,
                      timeout=5, what="status with tasks")  # fmt: skip
    assert status["lastRunTasks"][0]["taskArn"].startswith("arn:aws:ecs:us-east-1:")
    described = moto.client("ecs").describe_tasks(
        cluster="default", tasks=[status["lastRunTasks"][0]["taskArn"]]
    )
    assert described["tasks"][0]["taskDefinitionArn"].endswith("task-definition/sleeper-task:1")
    assert parse(status["estimatedNextRun"]) > parse(status["lastRun"])
    assert (parse(status["estimatedNextRun"]) - parse(status["lastRun"])).total_seconds() == 2
    assert kube.ready(namespace, "sleeper")["reason"] == "Scheduled"
    assert status["observedGeneration"] == 1
    request = calls[0].body
    assert (
        request["startedBy"] == "ecs-scheduler" and request["cluster"] == "default" and request["count"] == 1
    )
    assert len(request["clientToken"]) <= 64
    assert any(e.reason == "Launched" for e in kube.events(namespace, "sleeper"))


def test_twenty_three_tasks_take_three_calls(kube: KubeCluster, aws: AwsProxy, namespace: str) -> None:
    kube.apply_job(
        namespace, "wide", {"taskDefinition": "sleeper-task", "schedule": "@every 3s", "taskCount": 23}
    )
    job = f"{namespace}/wide"
    wait_for(lambda: len(aws.recorder.run_tasks_for(job)) >= 3, timeout=10, what="first fire")
    time.sleep(0.5)
    first = scheduled_at(aws.recorder.run_tasks_for(job)[0].body["tags"])
    calls = [c for c in aws.recorder.run_tasks_for(job) if scheduled_at(c.body["tags"]) == first]
    assert sorted(c.body["count"] for c in calls) == [3, 10, 10]
    assert len({c.body["clientToken"] for c in calls}) == 3
    status = wait_for(lambda: len(kube.status(namespace, "wide").get("lastRunTasks", [])) == 23 and kube.status(namespace, "wide"),
                      timeout=5, what="23 tasks in status")  # fmt: skip
    assert len({t["taskArn"] for t in status["lastRunTasks"]}) == 23
    kube.delete_job(namespace, "wide")


def test_suspend_stops_launches_and_resume_restarts_them(
    kube: KubeCluster, aws: AwsProxy, namespace: str
) -> None:
    kube.apply_job(namespace, "pausable", {"taskDefinition": "sleeper-task", "schedule": "@every 1s"})
    job = f"{namespace}/pausable"
    wait_for(lambda: len(aws.recorder.run_tasks_for(job)) >= 2, timeout=10, what="fires before suspend")
    kube.patch_spec(namespace, "pausable", {"suspended": True})
    wait_for(
        lambda: kube.ready(namespace, "pausable").get("reason") == "Suspended", timeout=5, what="Suspended"
    )
    time.sleep(0.5)  # a fire already in flight may still land
    count = len(aws.recorder.run_tasks_for(job))
    time.sleep(3)
    assert len(aws.recorder.run_tasks_for(job)) == count, "no launches while suspended"
    assert "estimatedNextRun" not in kube.status(namespace, "pausable")
    assert kube.ready(namespace, "pausable")["status"] == "False"
    kube.patch_spec(namespace, "pausable", {"suspended": False})
    wait_for(lambda: len(aws.recorder.run_tasks_for(job)) >= count + 2, timeout=10, what="fires after resume")
    assert kube.ready(namespace, "pausable")["reason"] == "Scheduled"
    kube.delete_job(namespace, "pausable")


def test_deleting_stops_launches(kube: KubeCluster, aws: AwsProxy, namespace: str) -> None:
    kube.apply_job(namespace, "doomed", {"taskDefinition": "sleeper-task", "schedule": "@every 1s"})
    job = f"{namespace}/doomed"
    wait_for(lambda: len(aws.recorder.run_tasks_for(job)) >= 2, timeout=10, what="fires")
    kube.delete_job(namespace, "doomed")
    time.sleep(0.5)
    count = len(aws.recorder.run_tasks_for(job))
    time.sleep(3)
    assert len(aws.recorder.run_tasks_for(job)) == count


def test_changing_the_schedule_moves_the_next_run(kube: KubeCluster, namespace: str) -> None:
    kube.apply_job(namespace, "mover", {"taskDefinition": "sleeper-task", "schedule": "0 3 * * *"})
    first = wait_for(
        lambda: kube.status(namespace, "mover").get("estimatedNextRun"), timeout=10, what="next run"
    )
    assert parse(first).hour == 3
    kube.patch_spec(namespace, "mover", {"schedule": "30 17 * * *", "timeZone": "Asia/Kolkata"})
    moved = wait_for(lambda: (n := kube.status(namespace, "mover").get("estimatedNextRun")) != first and n,
                     timeout=10, what="moved next run")  # fmt: skip
    assert (parse(moved).hour, parse(moved).minute) == (12, 0)  # 17:30 IST
    status = kube.status(namespace, "mover")
    assert status["observedGeneration"] == 2 and status["resolvedSchedule"] == "30 17 * * *"


def test_classic_syntax_with_question_mark_is_resolved_in_status(kube: KubeCluster, namespace: str) -> None:
    kube.apply_job(
        namespace,
        "classic",
        {"taskDefinition": "sleeper-task", "schedule": "? */5", "scheduleSyntax": "EcsScheduler"},
    )
    status = wait_for(
        lambda: kube.status(namespace, "classic").get("resolvedSchedule"), timeout=10, what="resolved"
    )
    second = status.split()[0]
    assert second.isdigit() and status == f"{second} */5 * * * * * *"
    assert kube.job(namespace, "classic")["spec"]["schedule"] == "? */5", "the spec is never rewritten"


def test_invalid_spec_gets_condition_and_event_and_others_keep_running(
    kube: KubeCluster, aws: AwsProxy, namespace: str
) -> None:
    kube.apply_job(namespace, "broken", {"taskDefinition": "sleeper-task", "schedule": "0 25 * * *"})
    kube.apply_job(namespace, "healthy", {"taskDefinition": "sleeper-task", "schedule": "@every 1s"})
    ready = wait_for(lambda: kube.ready(namespace, "broken").get("reason") == "InvalidSpec" and kube.ready(namespace, "broken"),
                     timeout=10, what="InvalidSpec")  # fmt: skip
    assert ready["status"] == "False" and ready["message"].startswith("spec.schedule:")
    assert "hour value 25" in ready["message"]
    event = wait_for(lambda: [e for e in kube.events(namespace, "broken") if e.reason == "InvalidSpec"], timeout=5,
                     what="Warning event")[0]  # fmt: skip
    assert event.type == "Warning" and "spec.schedule" in event.message
    wait_for(
        lambda: len(aws.recorder.run_tasks_for(f"{namespace}/healthy")) >= 2,
        timeout=10,
        what="healthy job fires",
    )
    assert aws.recorder.run_tasks_for(f"{namespace}/broken") == []
    kube.patch_spec(namespace, "broken", {"schedule": "@every 1s"})
    wait_for(
        lambda: kube.ready(namespace, "broken").get("reason") == "Scheduled", timeout=10, what="fixed spec"
    )
    wait_for(lambda: aws.recorder.run_tasks_for(f"{namespace}/broken"), timeout=10, what="fixed job fires")
    kube.delete_job(namespace, "broken")
    kube.delete_job(namespace, "healthy")


def test_schema_rejects_what_it_can_at_apply_time(kube: KubeCluster, namespace: str) -> None:
    import kubernetes

    with pytest.raises(kubernetes.client.ApiException) as caught:
        kube.apply_job(namespace, "too-many", {"taskDefinition": "t", "schedule": "@daily", "maxCount": 51})
    assert caught.value.status == 422 and "maxCount" in caught.value.body


def test_fargate_with_awsvpc(
    kube: KubeCluster, aws: AwsProxy, moto: MotoServer, ecs_setup: dict[str, str], namespace: str
) -> None:
    spec = {
        "taskDefinition": "fargate-task",
        "schedule": "@every 2s",
        "launchType": "FARGATE",
        "platformVersion": "LATEST",
        "networkConfiguration": {
            "awsvpcConfiguration": {"subnets": [ecs_setup["subnet"]], "securityGroups": [ecs_setup["security_group"]],
                                    "assignPublicIp": "DISABLED"}
        },
    }  # fmt: skip
    kube.apply_job(namespace, "fargate", spec)
    status = wait_for(lambda: kube.status(namespace, "fargate").get("lastRunTasks") and kube.status(namespace, "fargate"),
                      timeout=10, what="fargate launch")  # fmt: skip
    assert kube.ready(namespace, "fargate")["reason"] == "Scheduled"
    arn = status["lastRunTasks"][0]["taskArn"]
    task = moto.client("ecs").describe_tasks(cluster="default", tasks=[arn])["tasks"][0]
    assert task["launchType"] == "FARGATE"
    call = aws.recorder.run_tasks_for(f"{namespace}/fargate")[0]
    assert call.body["networkConfiguration"]["awsvpcConfiguration"]["subnets"] == [ecs_setup["subnet"]]
    kube.delete_job(namespace, "fargate")


def test_launch_failure_is_reported(kube: KubeCluster, namespace: str) -> None:
    kube.apply_job(namespace, "missing", {"taskDefinition": "no-such-task", "schedule": "@every 2s"})
    ready = wait_for(lambda: kube.ready(namespace, "missing").get("reason") == "LaunchFailed" and kube.ready(namespace, "missing"),
                     timeout=10, what="LaunchFailed")  # fmt: skip
    assert ready["status"] == "False"
    assert wait_for(lambda: [e for e in kube.events(namespace, "missing") if e.reason == "LaunchFailed" and e.type == "Warning"],
                    timeout=5, what="LaunchFailed event")  # fmt: skip
    assert kube.status(namespace, "missing").get("estimatedNextRun"), "a failed launch keeps the schedule"
    kube.delete_job(namespace, "missing")
