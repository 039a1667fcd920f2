"""`make demo`: the operator doing its job on this machine, with nothing but Python.

Starts a moto server (AWS), an API server (as the e2e tests do), the operator, applies every
manifest in examples/, imports two jobs from a stand-in of the classic ECS Scheduler's REST API
(`ecs-scheduler import`), then shows one live table of the jobs and the ECS tasks they launched,
redrawn in place.
Stops and cleans up on Ctrl-C (or after --duration seconds).
"""

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import yaml
from rich import box
from rich.console import Console
from rich.live import Live
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "operator"))

from tests.classic_standin import create, rest_api  # noqa: E402
from tests.e2e.harness import KubeCluster, MotoServer, Operator  # noqa: E402

from ecs_scheduler.core.verdict import Judge  # noqa: E402
from ecs_scheduler.tools import classic_sources, import_command  # noqa: E402

EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
NAMESPACE = "default"


def tasks_by_job(moto: MotoServer, cluster: str) -> Counter[str]:
    ecs = moto.client("ecs")
    counts: Counter[str] = Counter()
    arns = [a for page in ecs.get_paginator("list_tasks").paginate(cluster=cluster) for a in page["taskArns"]]
    for start in range(0, len(arns), 100):
        for task in ecs.describe_tasks(cluster=cluster, tasks=arns[start : start + 100], include=["TAGS"])[
            "tasks"
        ]:
            job = next(
                (t["value"] for t in task.get("tags", []) if t["key"] == "ecs-scheduler.dev/job"), None
            )
            if job:
                counts[job] += 1
    return counts


CLASSIC_JOBS = [  # as a classic ECS Scheduler holds them: `?` resolved when they were created
    {"taskDefinition": "sleeper-task", "id": "Legacy_Sleeper", "schedule": "? */2"},
    {"taskDefinition": "sleeper-task", "id": "legacy-hourly-report", "schedule": "0 0 * mon-fri",
     "timezone": "europe/berlin", "taskCount": 2},
]  # fmt: skip


def import_classic_jobs(kube: KubeCluster, console: Console) -> None:
    """`ecs-scheduler import --from URL`, as a migration would start, and the manifests applied."""
    import random

    jobs = [create(job, random.Random(1)) for job in CLASSIC_JOBS]
    with rest_api(jobs) as url:
        console.print(f"ecs-scheduler import --from {url} (a stand-in of the classic ECS Scheduler):")
        results = import_command.import_jobs(classic_sources.from_rest(url), judge=Judge(), now=datetime.now(UTC),
                                             namespace=NAMESPACE, suspended=None)  # fmt: skip
    console.print(import_command.report(results), end="", markup=False)
    for result in results:
        if result.manifest is not None:
            metadata = result.manifest["metadata"]
            kube.apply_job(
                NAMESPACE, metadata["name"], result.manifest["spec"], annotations=metadata["annotations"]
            )


def _age(instant: str | None, now: datetime) -> str:
    """`3s ago` / `in 3s`, as kubectl would say it, from an RFC 3339 instant."""
    if not instant:
        return "-"
    seconds = (datetime.fromisoformat(instant.replace("Z", "+00:00")) - now).total_seconds()
    size = abs(seconds)
    text = f"{size:.0f}s" if size < 120 else f"{size / 60:.0f}m" if size < 7200 else f"{size / 3600:.0f}h"
    return f"in {text}" if seconds > 0 else f"{text} ago"


class Notifications:
    """examples/notify-on-end.yaml's topic, read back through a subscribed queue."""

    def __init__(self, moto: MotoServer) -> None:
        self._sqs = moto.client("sqs")
        topic = moto.client("sns").create_topic(Name="ecs-scheduler-runs")["TopicArn"]
        self._queue = self._sqs.create_queue(QueueName="ecs-scheduler-runs-reader")["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self._queue, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        moto.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                                     Attributes={"RawMessageDelivery": "true"})  # fmt: skip
        self.received = 0
        self.latest = "-"

    def caption(self) -> str:
        for message in self._sqs.receive_message(QueueUrl=self._queue, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            event = json.loads(message["Body"])
            self.received += 1
            self.latest = f"{event['type']} for {event['subject']} (id {event['id'][:12]}...)"
            self._sqs.delete_message(QueueUrl=self._queue, ReceiptHandle=message["ReceiptHandle"])
        return f"CloudEvents received on ecs-scheduler-runs: {self.received}; latest: {self.latest}"


def view(kube: KubeCluster, moto: MotoServer, notifications: Notifications) -> Table:
    now = datetime.now(UTC)
    counts = tasks_by_job(moto, "default")
    table = Table(title=f"ScheduledEcsJobs in {NAMESPACE!r} at {now:%H:%M:%S} UTC", box=box.SIMPLE_HEAD,
                  caption=notifications.caption())  # fmt: skip
    for column in ("JOB", "SCHEDULE", "RESOLVED", "READY", "LAST RUN", "NEXT RUN", "LAST OUTCOME"):
        table.add_column(column, no_wrap=True)
    table.add_column("TASKS IN ECS", justify="right")
    for item in kube.custom.list_namespaced_custom_object(
        "ecs-scheduler.dev", "v1alpha1", NAMESPACE, "scheduledecsjobs"
    )["items"]:
        status = item.get("status") or {}
        ready = next((c for c in status.get("conditions", []) if c["type"] == "Ready"), {})
        name = item["metadata"]["name"]
        history = status.get("history") or [{}]
        table.add_row(
            name, item["spec"]["schedule"], status.get("resolvedSchedule", "-"),
            f"{ready.get('status', '?')}/{ready.get('reason', '-')}", _age(status.get("lastRun"), now),
            _age(status.get("estimatedNextRun"), now), history[-1].get("outcome", "-"), str(counts[f"{NAMESPACE}/{name}"]),
        )  # fmt: skip
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--duration", type=float, default=0, help="stop after this many seconds (0: until Ctrl-C)"
    )
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args()
    # Not a terminal (piped, or in a test): the table is printed once, at the end, wide enough.
    console = Console() if sys.stdout.isatty() else Console(width=160)
    workdir = Path(tempfile.mkdtemp(prefix="ecs-scheduler-demo-"))
    console.print(f"starting moto, an API server and the operator (logs in {workdir}) ...")
    moto = MotoServer(workdir)
    kube = operator = None
    try:
        moto.prepare_ecs()
        moto.prepare_ecs(account="222222222222")  # examples/other-account.yaml runs there
        # examples/consumer-task.yaml scales on this queue: 250 messages -> 3 tasks at its next check.
        queue_url = moto.client("sqs").create_queue(QueueName="consumer-queue")["QueueUrl"]
        for _ in range(25):
            entries = [{"Id": str(i), "MessageBody": "work"} for i in range(10)]
            moto.client("sqs").send_message_batch(QueueUrl=queue_url, Entries=entries)
        notifications = Notifications(moto)
        kube = KubeCluster(workdir)
        operator = Operator(workdir, kube, moto.url)
        for manifest in EXAMPLES:
            body = yaml.safe_load(manifest.read_text())
            kube.apply_job(NAMESPACE, body["metadata"]["name"], body["spec"])
            console.print(f"applied {manifest.relative_to(ROOT)}")
        import_classic_jobs(kube, console)
        console.print(f"API server: {kube.kind} at {kube.url}; KUBECONFIG={kube.kubeconfig}")
        console.print("Ctrl-C stops everything and cleans up.\n")
        started = time.monotonic()
        with Live(view(kube, moto, notifications), console=console, auto_refresh=False) as live:
            while not args.duration or time.monotonic() - started < args.duration:
                time.sleep(args.interval)
                live.update(view(kube, moto, notifications), refresh=True)
    except KeyboardInterrupt:
        console.print("\nstopping ...")
    finally:
        if operator:
            operator.stop()
        if kube:
            kube.stop()
        moto.stop()
    console.print("\ncleaned up.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
