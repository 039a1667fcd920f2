"""Runs followed from ECS's event stream (an SQS queue an EventBridge rule fills).

moto emits no ECS events: the tests put events shaped like AWS's documented `ECS Task State
Change` on the queue, as EventBridge would, with repeats, reordering, a foreign task and a
malformed message. Tasks are pinned RUNNING in moto unless a test lets DescribeTasks move them.
"""

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bench.task_events import events_queue, measure, task_event

from tests.e2e.awsproxy import AwsProxy
from tests.e2e.conftest import StartOperator
from tests.e2e.harness import KubeCluster, MotoServer, wait_for
from tests.e2e.test_run_lifecycle import history, soon

pytestmark = pytest.mark.e2e


@pytest.fixture
def queue(moto: MotoServer, own_namespace: str) -> Iterator[tuple[str, str]]:
    yield events_queue(moto, f"task-events-{own_namespace}")


def depth(moto: MotoServer, url: str) -> int:
    attributes = moto.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def running_tasks(
    kube: KubeCluster, moto: MotoServer, namespace: str, name: str, count: int
) -> list[dict[str, Any]]:
    arns = wait_for(lambda: [a for r in kube.status(namespace, name).get("active") or [] for a in r.get("taskArns", [])][:count]
                    if sum(len(r.get("taskArns", [])) for r in kube.status(namespace, name).get("active") or []) >= count else None,
                    timeout=20, what=f"{count} task(s) started")  # fmt: skip
    return list(moto.client("ecs").describe_tasks(cluster="default", tasks=arns)["tasks"])


def metric(port: int, sample: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(sample + " "):
                return float(line.split()[-1])
    return 0.0


def test_repeated_reordered_foreign_and_malformed_events(
    kube: KubeCluster, moto: MotoServer, aws: AwsProxy, own_namespace: str, start_operator: StartOperator,
    queue: tuple[str, str], tasks_stay_running: None,
) -> None:  # fmt: skip
    url, dead_letters = queue
    operator = start_operator("--task-events-queue", url, "--task-events-grace", "600")
    kube.apply_job(
        own_namespace, "evented", {"taskDefinition": "sleeper-task", "schedule": soon(), "taskCount": 2}
    )
    first, second = running_tasks(kube, moto, own_namespace, "evented", 2)
    foreign = {
        **first,
        "taskArn": first["taskArn"].replace(first["taskArn"][-6:], "zzzzzz"),
        "startedBy": "someone",
    }
    sqs = moto.client("sqs")
    for body in (
        task_event(first, "RUNNING", 2), task_event(first, "RUNNING", 2),  # delivered twice
        task_event(second, "RUNNING", 2), task_event(foreign, "STOPPED", 4), "{not an event",
        task_event(second, "STOPPED", 4, exit_code=3), task_event(second, "PENDING", 1),  # late
        task_event(first, "STOPPED", 4, exit_code=0),
    ):  # fmt: skip
        sqs.send_message(QueueUrl=url, MessageBody=body)
    (record,) = wait_for(
        lambda: history(kube, own_namespace, "evented"), timeout=20, what="the run's outcome"
    )
    assert record["outcome"] == "Failed" and "container sleeper exited with code 3" in record["reason"]
    tasks = {t["taskArn"]: t for t in kube.status(own_namespace, "evented")["lastRunTasks"]}
    assert tasks[second["taskArn"]]["containers"] == [{"name": "sleeper", "exitCode": 3}]
    assert tasks[second["taskArn"]]["stopCode"] == "EssentialContainerExited"
    assert tasks[first["taskArn"]]["lastStatus"] == "STOPPED", "the late PENDING changed nothing"
    assert aws.recorder.describes_of(first["taskArn"]) == 0, "followed from events alone"
    wait_for(lambda: depth(moto, url) == 0, timeout=20, what="every message deleted")
    aside = sqs.receive_message(QueueUrl=dead_letters, MessageAttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in aside] == ["{not an event"]
    assert "not JSON" in aside[0]["MessageAttributes"]["ecs-scheduler-reason"]["StringValue"]
    port = operator.metrics_port
    assert metric(port, 'ecs_scheduler_task_events_total{result="malformed"}') == 1
    assert metric(port, 'ecs_scheduler_task_events_total{result="foreign"}') == 1
    assert metric(port, 'ecs_scheduler_task_events_total{result="stale"}') + metric(
        port, 'ecs_scheduler_task_events_total{result="duplicate"}') >= 2  # fmt: skip


def test_a_task_no_event_speaks_of_is_described_after_the_grace(
    kube: KubeCluster,
    aws: AwsProxy,
    own_namespace: str,
    start_operator: StartOperator,
    queue: tuple[str, str],
) -> None:
    url, _ = queue
    start_operator("--task-events-queue", url, "--task-events-grace", "2")
    kube.apply_job(own_namespace, "silent", {"taskDefinition": "sleeper-task", "schedule": soon()})
    (record,) = wait_for(lambda: history(kube, own_namespace, "silent"), timeout=40, what="the run's outcome")
    assert record["outcome"] == "Succeeded", "DescribeTasks (the safety net) saw it end without any event"
    arn = kube.status(own_namespace, "silent")["lastRunTasks"][0]["taskArn"]
    assert aws.recorder.describes_of(arn) >= 1


def test_run_end_to_status_within_two_seconds_and_few_describes(
    moto: MotoServer, aws: AwsProxy, kube: KubeCluster, workdir: Path, ecs_setup: dict[str, str]
) -> None:
    url, _ = events_queue(moto, "task-events-measured")
    result = measure(moto, aws, kube, workdir, jobs=20, queue=url, namespace="own-measured", spread=5)
    print(json.dumps(result))
    assert result["end_to_status_seconds"]["p99"] <= 2.0, result
    assert result["describe_tasks_per_finished_task"] <= 0.1, result
