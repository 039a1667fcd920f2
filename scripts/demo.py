"""`make demo`: the operator doing its job on this machine, with nothing but Python.

Starts a moto server (AWS), an API server (as the e2e tests do), the operator, applies every
manifest in examples/, then shows a live view of the jobs and the ECS tasks they launched.
Stops and cleans up on Ctrl-C (or after --duration seconds).
"""

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "operator"))

from tests.e2e.harness import KubeCluster, MotoServer, Operator  # noqa: E402

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


def view(kube: KubeCluster, moto: MotoServer) -> str:
    counts = tasks_by_job(moto, "default")
    rows = [("JOB", "SCHEDULE", "RESOLVED", "READY", "LAST RUN", "NEXT RUN", "TASKS IN ECS")]
    for item in kube.custom.list_namespaced_custom_object(
        "ecs-scheduler.dev", "v1alpha1", NAMESPACE, "scheduledecsjobs"
    )["items"]:
        status = item.get("status") or {}
        ready = next((c for c in status.get("conditions", []) if c["type"] == "Ready"), {})
        name = item["metadata"]["name"]
        rows.append((
            name, item["spec"]["schedule"], status.get("resolvedSchedule", "-"),
            f"{ready.get('status', '?')}/{ready.get('reason', '-')}", status.get("lastRun", "-"),
            status.get("estimatedNextRun", "-"), str(counts[f"{NAMESPACE}/{name}"]),
        ))  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--duration", type=float, default=0, help="stop after this many seconds (0: until Ctrl-C)"
    )
    parser.add_argument("--interval", type=float, default=2.0)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ecs-scheduler-demo-"))
    print(f"starting moto, an API server and the operator (logs in {workdir}) ...", flush=True)
    moto = MotoServer(workdir)
    kube = operator = None
    try:
        moto.prepare_ecs()
        # examples/consumer-task.yaml scales on this queue: 250 messages -> 3 tasks at its next check.
        queue_url = moto.client("sqs").create_queue(QueueName="consumer-queue")["QueueUrl"]
        for _ in range(25):
            entries = [{"Id": str(i), "MessageBody": "work"} for i in range(10)]
            moto.client("sqs").send_message_batch(QueueUrl=queue_url, Entries=entries)
        kube = KubeCluster(workdir)
        operator = Operator(workdir, kube, moto.url)
        for manifest in EXAMPLES:
            body = yaml.safe_load(manifest.read_text())
            kube.apply_job(NAMESPACE, body["metadata"]["name"], body["spec"])
            print(f"applied {manifest.relative_to(ROOT)}")
        print(f"API server: {kube.kind} at {kube.url}; KUBECONFIG={kube.kubeconfig}\n", flush=True)
        started = time.monotonic()
        while not args.duration or time.monotonic() - started < args.duration:
            time.sleep(args.interval)
            print(f"--- {time.strftime('%H:%M:%S')} ---\n{view(kube, moto)}\n", flush=True)
    except KeyboardInterrupt:
        print("\nstopping ...")
    finally:
        if operator:
            operator.stop()
        if kube:
            kube.stop()
        moto.stop()
    print("cleaned up.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
