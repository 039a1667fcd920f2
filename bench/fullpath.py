"""The full path for 1,000 jobs: kopf, the API server used in e2e, status writes and Events,
with an AWS stand-in over HTTP that answers at once. Where does the time go?

    python -m bench.fullpath --jobs 1000 --window 60 --out docs
"""

import argparse
import collections
import json
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.e2e.harness import KubeCluster, Operator, wait_for

from bench.one import lateness_ms, summary
from bench.workload import body, jobs
from ecs_scheduler.model import names


class AwsStandIn:
    """ECS over HTTP, answering at once: RunTask starts tasks that DescribeTasks reports stopped."""

    def __init__(self) -> None:
        self.sent: list[tuple[float, str]] = []
        self.calls: collections.Counter[str] = collections.Counter()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave in two writes; with Nagle's algorithm on, the body waits for
            # the client's delayed ACK, 40 ms on Linux, on every call.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                received = time.time()
                request = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                operation = self.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
                stand_in.calls[operation] += 1
                answer = stand_in.answer(operation, request, received)
                payload = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, operation: str, request: dict[str, Any], received: float) -> dict[str, Any]:
        if operation == "RunTask":
            tags = {t["key"]: t["value"] for t in request.get("tags", [])}
            self.sent.append((received, tags.get(names.SCHEDULED_AT_TAG, ""), tags.get(names.JOB_TAG, "")))
            arns = [
                f"arn:aws:ecs:us-east-1:123456789012:task/bench/{request['clientToken']}-{i}"
                for i in range(request["count"])
            ]
            return {"tasks": [{"taskArn": a, "lastStatus": "PROVISIONING"} for a in arns], "failures": []}
        if operation == "DescribeTasks":
            return {"tasks": [{"taskArn": a, "lastStatus": "STOPPED", "stopCode": "EssentialContainerExited",
                               "containers": [{"name": "app", "exitCode": 0}]} for a in request.get("tasks", [])],
                    "failures": []}  # fmt: skip
        if operation == "DescribeTaskDefinition":
            return {"taskDefinition": {"containerDefinitions": [{"name": "app", "essential": True}]}}
        return {"taskArns": []}


def scrape(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def boto3_run_task_cost(url: str, calls: int = 200) -> dict[str, float]:
    """What one RunTask costs in boto3 alone (build, sign, send, parse) against the instant
    stand-in, one call after another in this process: wall and CPU milliseconds per call."""
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "ecs", endpoint_url=url, region_name="us-east-1", aws_access_key_id="bench",
        aws_secret_access_key="bench", config=Config(retries={"mode": "standard"}),
    )  # fmt: skip
    request = {"cluster": "bench", "taskDefinition": "bench:1", "count": 1, "clientToken": "calibration"}
    client.run_task(**request)  # the first call loads the service model
    wall, cpu = time.perf_counter(), time.thread_time()
    for _ in range(calls):
        client.run_task(**request)
    return {
        "wall_ms": 1000 * (time.perf_counter() - wall) / calls,
        "cpu_ms": 1000 * (time.thread_time() - cpu) / calls,
    }


def handed_over(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Upper bounds of p50 and p99 of the operator's own lateness histogram (instant to RunTask
    handed to the AWS pool) over the window, in ms: what the scheduler adds before boto3."""
    prefix = "ecs_scheduler_schedule_lateness_seconds_bucket{le="
    buckets = sorted(
        (float(name[len(prefix) + 1 : -2]), after[name] - before.get(name, 0))
        for name in after
        if name.startswith(prefix) and "+Inf" not in name
    )
    total = after.get("ecs_scheduler_schedule_lateness_seconds_count", 0) - before.get(
        "ecs_scheduler_schedule_lateness_seconds_count", 0
    )
    bound = lambda q: next((1000 * le for le, count in buckets if count >= q / 100 * total), float("inf"))  # noqa: E731
    return {"p50_at_most": bound(50), "p99_at_most": bound(99)}


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks of 1/100 s


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--window", type=float, default=60)
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="fullpath-"))
    kube, aws = KubeCluster(workdir, record=True), AwsStandIn()
    try:
        namespaces = sorted({job.namespace for job in jobs(args.jobs)})
        for namespace in namespaces:
            kube.create_namespace(namespace)
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for index, job in enumerate(jobs(args.jobs)):
            kube.apply_job(job.namespace, job.name, body(job, index, created)["spec"])
        boto3_cost = boto3_run_task_cost(aws.url)
        aws.sent.clear()
        aws.calls.clear()
        started = time.time()
        operator = Operator(workdir, kube, aws.url, "--log-level", "WARNING", name="operator")
        pid = operator.process.popen.pid
        wait_for(lambda: scrape(operator.metrics_port).get('ecs_scheduler_jobs{reason="Scheduled"}', 0) >= args.jobs,
                 timeout=300, interval=0.5, what="every job scheduled")  # fmt: skip
        listed = time.time() - started
        wait_for(lambda: all(kube.status(j.namespace, j.name).get("estimatedNextRun") for j in jobs(args.jobs)[-20:]),
                 timeout=300, interval=0.5, what="status written")  # fmt: skip
        written = time.time() - started
        time.sleep(5)
        aws.sent.clear()
        server = kube.processes[-1].popen.pid  # the API server (after etcd with envtest)
        before, wall0 = scrape(operator.metrics_port), time.time()
        cpu0, server_cpu0 = process_cpu(pid), process_cpu(server)
        time.sleep(args.window)
        after, wall1 = scrape(operator.metrics_port), time.time()
        cpu1, server_cpu1 = process_cpu(pid), process_cpu(server)
        operator.stop()
    finally:
        kube.stop()
        aws.server.shutdown()
    kinds = {job.key: job.kind for job in jobs(args.jobs)}
    late = lateness_ms([entry for entry in aws.sent if entry[1]], kinds)
    delta = lambda name: after.get(name, 0) - before.get(name, 0)  # noqa: E731
    requests = collections.Counter()
    for line in kube.record_path.read_text().splitlines() if kube.record_path else []:
        entry = json.loads(line)
        if entry.get("agent", "").startswith(("kopf/", "ecs-scheduler/")):
            requests[
                f"{entry['verb']} {entry['resource']}{'/' + entry['subresource'] if entry.get('subresource') else ''}"
            ] += 1
    fires = delta("ecs_scheduler_fires_total")
    result = {
        "jobs": args.jobs, "window_s": args.window, "api_server": kube.kind,
        "start_to_all_scheduled_s": round(listed, 2), "start_to_status_written_s": round(written, 2),
        "fires": fires,
        "lateness_ms": {kind: summary(values) for kind, values in sorted(late.items())},
        "handed_to_aws_pool_ms": handed_over(before, after),
        "boto3_run_task_alone_ms": boto3_cost,
        "status_write_ms_mean": 1000 * delta("ecs_scheduler_status_write_seconds_sum") / max(1, delta("ecs_scheduler_status_write_seconds_count")),
        "status_writes_per_fire": delta("ecs_scheduler_status_write_seconds_count") / max(1, fires),
        "operator_cpu_percent": 100 * (cpu1 - cpu0) / (wall1 - wall0),
        "api_server_cpu_percent": 100 * (server_cpu1 - server_cpu0) / (wall1 - wall0),
        "api_requests_total_session": dict(requests.most_common()),
        "aws_calls": dict(aws.calls),
    }  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench-fullpath.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
