"""Run end -> status, with and without the task events queue (the e2e setup: operator subprocess,
API server, moto in server mode behind the recording proxy).

Each job runs one task, pinned RUNNING in moto. Once every task is running, the bench ends them
one by one, the way ECS would: StopTask in moto (what DescribeTasks then returns) and, with the
queue, the `ECS Task State Change` event EventBridge would deliver (RUNNING when it started,
STOPPED now). A watch on the jobs records when each status first shows the run's outcome.
Measured: seconds from a task's end to its status showing the outcome (p50/p99), and the
DescribeTasks calls the operator made per finished task over the tasks' whole lives (calls, and
task ARNs described: one call describes up to 100 tasks).

    python -m bench.task_events --jobs 200 --out docs
"""

import argparse
import json
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import kubernetes
from tests.e2e.awsproxy import AwsProxy
from tests.e2e.harness import (
    ACCOUNT,
    GROUP,
    PLURAL,
    REGION,
    VERSION,
    KubeCluster,
    MotoServer,
    Operator,
    wait_for,
)

from bench.one import summary

STARTED_BY = "ecs-scheduler"


def task_event(task: dict[str, Any], status: str, version: int, *, exit_code: int | None = None) -> str:
    """An `ECS Task State Change` event as EventBridge delivers it (AWS's documented shape)."""
    container: dict[str, Any] = {"name": "sleeper", "lastStatus": status}
    detail: dict[str, Any] = {
        "taskArn": task["taskArn"], "clusterArn": task["clusterArn"], "lastStatus": status,
        "desiredStatus": "STOPPED" if status == "STOPPED" else "RUNNING", "startedBy": task.get("startedBy", ""),
        "taskDefinitionArn": task["taskDefinitionArn"], "version": version, "containers": [container],
        "createdAt": _now(), "updatedAt": _now(), "group": task.get("group", ""), "launchType": "EC2",
    }  # fmt: skip
    if status in ("RUNNING", "STOPPED"):
        detail["startedAt"] = _now()
    if status == "STOPPED":
        container["exitCode"] = 0 if exit_code is None else exit_code
        detail.update(stopCode="EssentialContainerExited", stoppedReason="Essential container in task exited",
                      stoppedAt=_now(), stoppingAt=_now(), executionStoppedAt=_now())  # fmt: skip
    event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "ECS Task State Change", "source": "aws.ecs",
             "account": ACCOUNT, "time": _now(), "region": REGION, "resources": [task["taskArn"]], "detail": detail}  # fmt: skip
    return json.dumps(event)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def events_queue(moto: MotoServer, name: str) -> tuple[str, str]:
    """A task events queue with a dead-letter queue, as docs/task-events.md sets it up."""
    sqs = moto.client("sqs")
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})
    url = sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": redrive})["QueueUrl"]
    return url, dlq


class OutcomeWatch:
    """When each job's status first showed a history record (from a watch, outside the operator)."""

    def __init__(self, kube: KubeCluster, namespace: str) -> None:
        self.seen: dict[str, float] = {}
        self._stop = threading.Event()
        api = kubernetes.client.CustomObjectsApi(kube.api_client)
        self._watch = kubernetes.watch.Watch()
        listed = api.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)
        self._thread = threading.Thread(
            target=self._run, args=(api, namespace, listed["metadata"]["resourceVersion"]), daemon=True
        )
        self._thread.start()

    def _run(self, api: Any, namespace: str, version: str) -> None:
        while not self._stop.is_set():
            try:
                stream = self._watch.stream(api.list_namespaced_custom_object, GROUP, VERSION, namespace, PLURAL,
                                            resource_version=version, timeout_seconds=5)  # fmt: skip
                for event in stream:
                    obj = event["object"]
                    version = obj["metadata"]["resourceVersion"]
                    if (obj.get("status") or {}).get("history"):
                        self.seen.setdefault(obj["metadata"]["name"], time.time())
            except Exception:  # stopped under the stream, or a dropped connection: watch again
                if self._stop.is_set():
                    return
                time.sleep(0.1)

    def stop(self) -> None:
        self._stop.set()
        self._watch.stop()
        self._thread.join(timeout=10)


def measure(
    moto: MotoServer, aws: AwsProxy, kube: KubeCluster, workdir: Path, *, jobs: int, queue: str | None,
    namespace: str, spread: float = 10.0, extra_args: tuple[str, ...] = (),
) -> dict[str, Any]:  # fmt: skip
    """Run `jobs` one-task jobs to their end; what it took for their status to show it."""
    kube.create_namespace(namespace)
    args = ["--namespace", namespace, *extra_args]
    if queue:
        args += ["--task-events-queue", queue]
    operator = Operator(workdir, kube, aws.url, *args, name=f"{namespace}-operator")
    ecs, sqs = moto.client("ecs"), moto.client("sqs")
    moto.task_progression(1_000_000)  # tasks stay RUNNING until the bench ends them
    try:
        at = (datetime.now(UTC) + timedelta(seconds=4)).replace(microsecond=0)
        for index in range(jobs):
            kube.apply_job(namespace, f"job-{index}", {"taskDefinition": "sleeper-task",
                                                     "schedule": f"at({at.strftime('%Y-%m-%dT%H:%M:%SZ')})"})  # fmt: skip
        names = [f"job-{index}" for index in range(jobs)]
        arns: dict[str, str] = {}

        def started() -> bool:
            for name in names:
                if name not in arns:
                    active = kube.status(namespace, name).get("active") or []
                    if active and active[0].get("taskArns"):
                        arns[name] = active[0]["taskArns"][0]
            return len(arns) == jobs

        wait_for(started, timeout=60 + jobs / 5, interval=0.5, what="every task started")
        described = {
            arn: ecs.describe_tasks(cluster="default", tasks=[arn])["tasks"][0] for arn in arns.values()
        }
        if queue:
            for batch in _batches([task_event(t, "RUNNING", 2) for t in described.values()]):
                sqs.send_message_batch(QueueUrl=queue, Entries=batch)
        time.sleep(2)
        watch = OutcomeWatch(kube, namespace)
        ended: dict[str, float] = {}
        for name, arn in arns.items():
            ecs.stop_task(cluster="default", task=arn, reason="bench: the task ended")
            ended[name] = time.time()
            if queue:
                sqs.send_message(QueueUrl=queue, MessageBody=task_event(described[arn], "STOPPED", 4))
            time.sleep(spread / jobs)
        wait_for(lambda: len(watch.seen) == jobs, timeout=120, interval=0.2, what="every outcome in status")
        watch.stop()
        ours = set(arns.values())
        calls = _describes(aws, ours)  # over the tasks' whole lives, from launch to status
        mentions = sum(len(ours & set(c.body.get("tasks", []))) for c in calls)
        latencies = sorted(watch.seen[name] - ended[name] for name in names)
        return {
            "jobs": jobs,
            "queue": bool(queue),
            "end_to_status_seconds": summary(latencies),
            "describe_tasks_calls": len(calls),
            "describe_tasks_per_finished_task": round(len(calls) / jobs, 3),
            "task_describes_per_finished_task": round(mentions / jobs, 3),
        }
    finally:
        moto.task_progression(1)
        operator.stop()


def _describes(aws: AwsProxy, arns: set[str]) -> list[Any]:
    return [c for c in aws.recorder.operations("DescribeTasks") if arns & set(c.body.get("tasks", []))]


def _batches(bodies: list[str]) -> list[list[dict[str, str]]]:
    entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies)]
    return [entries[i : i + 10] for i in range(0, len(entries), 10)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-task-events-"))
    moto = MotoServer(workdir)
    moto.prepare_ecs()
    aws = AwsProxy(moto.url).start()
    kube = KubeCluster(workdir)
    try:
        queue, _ = events_queue(moto, "ecs-scheduler-task-events")
        results = {
            "api_server": kube.kind,
            "with_queue": measure(
                moto, aws, kube, workdir, jobs=args.jobs, queue=queue, namespace="bench-queue"
            ),
            "polling": measure(
                moto, aws, kube, workdir, jobs=args.jobs, queue=None, namespace="bench-polling"
            ),
        }
    finally:
        kube.stop()
        aws.stop()
        moto.stop()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench-task-events.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
