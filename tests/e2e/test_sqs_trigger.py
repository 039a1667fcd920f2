"""End-to-end: SQS triggers against moto's SQS and ECS over HTTP."""

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.awsproxy import AwsProxy
from tests.e2e.harness import KubeCluster, MotoServer, wait_for

pytestmark = pytest.mark.e2e


def queue(moto: MotoServer, messages: int = 0, **attributes: str) -> tuple[str, str]:
    name = f"q-{uuid.uuid4().hex[:8]}"
    url = moto.client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    send(moto, url, messages)
    return name, url


def send(moto: MotoServer, url: str, count: int, **extra: Any) -> None:
    sqs = moto.client("sqs")
    for start in range(0, count, 10):
        entries = [{"Id": str(i), "MessageBody": "work", **extra} for i in range(min(10, count - start))]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)


def soon(seconds: float = 2.0) -> str:
    instant = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=seconds + 1)
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def once_soon(queue_name: str, **trigger: Any) -> dict[str, Any]:
    """A job whose first check is in ~2 s and the next an hour later: one decision to look at."""
    return {
        "taskDefinition": "consumer-task",
        "schedule": "@every 1h",
        "scheduleStart": soon(),
        "trigger": {"type": "sqs", "queueName": queue_name, **{"messagesPerTask": 100, **trigger}},
    }


def launched(aws: AwsProxy, job: str) -> int:
    return sum(c.body["count"] for c in aws.recorder.run_tasks_for(job))


def attribute_calls(aws: AwsProxy, url: str) -> int:
    return len([c for c in aws.recorder.operations("GetQueueAttributes") if c.body.get("QueueUrl") == url])


def checked(kube: KubeCluster, namespace: str, name: str) -> dict[str, Any] | None:
    status = kube.status(namespace, name)
    return status if "lastDecision" in status else None


def test_empty_queue_starts_nothing_and_says_so(
    kube: KubeCluster, aws: AwsProxy, moto: MotoServer, namespace: str
) -> None:
    name, _ = queue(moto)
    spec = {"taskDefinition": "consumer-task", "schedule": "@every 1s",
            "trigger": {"type": "sqs", "queueName": name, "messagesPerTask": 10}}  # fmt: skip
    kube.apply_job(namespace, "idle", spec)
    status = wait_for(lambda: checked(kube, namespace, "idle"), timeout=10, what="a check")
    time.sleep(2.5)
    status = kube.status(namespace, "idle")
    assert status["lastDecision"] == "depth 0 -> no tasks" and status["lastQueueDepth"] == 0
    assert "lastRun" not in status
    assert aws.recorder.run_tasks_for(f"{namespace}/idle") == []
    assert kube.ready(namespace, "idle")["reason"] == "Scheduled"
    assert [e.reason for e in kube.events(namespace, "idle")] == [], (
        "a check that launches nothing posts no event"
    )
    kube.delete_job(namespace, "idle")


# moto's SendMessageBatch costs O(queue length) per message (1,000 messages take ~16 s), so the
# 5,000-message case of the maxCount cap runs at the adapter boundary (tests/unit/test_sqs_adapter.py);
# here the same cap is shown with 150 messages at 10 per task.
@pytest.mark.parametrize(
    ("messages", "per_task", "fields", "tasks", "decision"),
    [
        (250, 100, {}, 3, "depth 250, 100 per task -> 3 tasks"),
        (150, 10, {"maxCount": 10}, 10, "depth 150, 10 per task -> 10 tasks"),
        (30, 100, {"taskCount": 2}, 2, "depth 30, 100 per task -> 2 tasks"),
    ],
)
def test_tasks_in_proportion_to_the_backlog(
    kube: KubeCluster, aws: AwsProxy, moto: MotoServer, namespace: str,
    messages: int, per_task: int, fields: dict[str, int], tasks: int, decision: str,
) -> None:  # fmt: skip
    name, _ = queue(moto, messages)
    kube.apply_job(namespace, "backlog", {**once_soon(name, messagesPerTask=per_task), **fields})
    status = wait_for(lambda: checked(kube, namespace, "backlog") if kube.status(namespace, "backlog").get("lastRun") else None,
                      timeout=15, what="a launch")  # fmt: skip
    assert status["lastDecision"] == decision
    assert launched(aws, f"{namespace}/backlog") == tasks
    assert len(status["lastRunTasks"]) == tasks
    assert all(c.body["count"] <= 10 for c in aws.recorder.run_tasks_for(f"{namespace}/backlog"))
    event = wait_for(
        lambda: [e for e in kube.events(namespace, "backlog") if e.reason == "Launched"],
        timeout=5,
        what="event",
    )[0]
    assert decision in event.message
    kube.delete_job(namespace, "backlog")


def test_in_flight_and_delayed_messages_count_only_when_asked(
    kube: KubeCluster, moto: MotoServer, namespace: str
) -> None:
    name, url = queue(moto, 100)
    sqs = moto.client("sqs")
    received = 0
    while received < 40:  # 40 in flight
        received += len(
            sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600).get(
                "Messages", []
            )
        )
    send(moto, url, 30, DelaySeconds=600)  # 30 delayed
    kube.apply_job(namespace, "visible-only", once_soon(name))
    kube.apply_job(namespace, "everything", once_soon(name, scaleOnInFlight=True, scaleOnDelayed=True))
    kube.apply_job(namespace, "in-flight", once_soon(name, scaleOnInFlight=True))
    depths = {
        job: wait_for(lambda job=job: checked(kube, namespace, job), timeout=15, what=job)["lastQueueDepth"]
        for job in ("visible-only", "everything", "in-flight")
    }
    assert depths == {"visible-only": 60, "everything": 130, "in-flight": 100}


def test_two_jobs_on_one_queue_share_one_attributes_call(
    kube: KubeCluster, aws: AwsProxy, moto: MotoServer, namespace: str
) -> None:
    name, url = queue(moto)
    for job in ("first", "second"):
        spec = {"taskDefinition": "consumer-task", "schedule": "@every 2s",
                "trigger": {"type": "sqs", "queueName": name, "messagesPerTask": 10}}  # fmt: skip
        kube.apply_job(namespace, job, spec)
    wait_for(lambda: attribute_calls(aws, url) >= 4, timeout=15, what="several checks")
    kube.delete_job(namespace, "first")
    kube.delete_job(namespace, "second")
    time.sleep(1)
    calls = [c for c in aws.recorder.operations("GetQueueAttributes") if c.body.get("QueueUrl") == url]
    instants = {int(c.received // 2) for c in calls}  # checks are on even seconds, each lands < 2 s late
    # One call per check instant (both jobs fire on the same even second), never one per job.
    assert len(calls) == len(instants), [c.received for c in calls]
    assert len(aws.recorder.operations("GetQueueUrl")) >= 1


def test_accurate_starts_only_the_difference(
    kube: KubeCluster, aws: AwsProxy, moto: MotoServer, namespace: str, tasks_stay_running: None
) -> None:
    name, _ = queue(moto, 500)
    spec = {"taskDefinition": "consumer-task", "schedule": "@every 2s",
            "trigger": {"type": "sqs", "queueName": name, "messagesPerTask": 100, "strategy": "Accurate"}}  # fmt: skip
    kube.apply_job(namespace, "accurate", spec)
    job = f"{namespace}/accurate"
    wait_for(lambda: launched(aws, job) == 5, timeout=10, what="the first 5 tasks")
    wait_for(lambda: "5 still running -> 0 tasks" in (kube.status(namespace, "accurate").get("lastDecision") or ""),
             timeout=10, what="a check that sees 5 running")  # fmt: skip
    assert launched(aws, job) == 5
    arns = [t["taskArn"] for t in kube.status(namespace, "accurate")["lastRunTasks"]]
    for arn in arns[:2]:
        moto.client("ecs").stop_task(cluster="default", task=arn, reason="test")
    wait_for(lambda: launched(aws, job) == 7, timeout=10, what="2 replacement tasks")
    # The status moves on at the next check; the Launched event keeps this check's decision.
    wait_for(lambda: [e for e in kube.events(namespace, "accurate") if "3 still running -> 2 tasks" in e.message],
             timeout=5, what="the decision that started 2 tasks")  # fmt: skip
    time.sleep(2.5)
    assert launched(aws, job) == 7, "5 running again: no more tasks"
    kube.patch_spec(namespace, "accurate", {"suspended": True})
    assert len(aws.recorder.operations("DescribeTasks")) >= 2


def test_missing_queue_sets_trigger_error_and_recovers(
    kube: KubeCluster, aws: AwsProxy, moto: MotoServer, namespace: str
) -> None:
    name, url = queue(moto)
    moto.client("sqs").delete_queue(QueueUrl=url)
    spec = {"taskDefinition": "consumer-task", "schedule": "@every 1s",
            "trigger": {"type": "sqs", "queueName": name, "messagesPerTask": 10}}  # fmt: skip
    kube.apply_job(namespace, "orphan", spec)
    ready = wait_for(lambda: (r := kube.ready(namespace, "orphan")).get("reason") == "TriggerError" and r, timeout=10,
                     what="TriggerError")  # fmt: skip
    assert ready["status"] == "False" and "queue does not exist" in ready["message"]
    time.sleep(2.5)
    warnings = [e for e in kube.events(namespace, "orphan") if e.reason == "TriggerError"]
    assert len(warnings) == 1 and warnings[0].type == "Warning", (
        "one event per distinct error, not one per check"
    )
    assert aws.recorder.run_tasks_for(f"{namespace}/orphan") == [], "never launch on a guess"
    moto.client("sqs").create_queue(QueueName=name)
    send(moto, moto.client("sqs").get_queue_url(QueueName=name)["QueueUrl"], 15)
    wait_for(
        lambda: kube.ready(namespace, "orphan").get("reason") == "Scheduled", timeout=10, what="recovery"
    )
    wait_for(lambda: launched(aws, f"{namespace}/orphan") >= 2, timeout=10, what="launch after recovery")
    kube.delete_job(namespace, "orphan")
