"""ECS over real HTTP for the full-path benchmark, answering at once.

RunTask starts tasks that DescribeTasks then reports STOPPED with exit code 0, so a run ends at
the operator's first sweep after its launch. Every RunTask's arrival time and tags are kept.
With `buckets`, each API is throttled like ECS (tests/e2e/awsproxy.py's EcsBuckets).
"""

import collections
import json
import threading
import time
from http.server import ThreadingHTTPServer
from typing import Any

from tests.e2e.awsproxy import EcsBuckets, QuietHandler

from ecs_scheduler.model import names

CALLER_IDENTITY = (
    '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
    "<UserId>AIDBENCH</UserId><Account>123456789012</Account><Arn>arn:aws:iam::123456789012:user/bench</Arn>"
    "</GetCallerIdentityResult><ResponseMetadata><RequestId>bench</RequestId></ResponseMetadata>"
    "</GetCallerIdentityResponse>"
)


class AwsStandIn:
    def __init__(self, buckets: EcsBuckets | None = None) -> None:
        self.buckets = buckets
        self.tokens: collections.Counter[str] = collections.Counter()
        """clientTokens of RunTasks that started tasks: more than 1 would be a duplicate launch."""
        self.sent: list[tuple[float, str, str]] = []
        """(arrival time, scheduled-at tag, job tag) of every RunTask."""
        self.calls: collections.Counter[str] = collections.Counter()
        stand_in = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                received = time.time()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if b"Action=GetCallerIdentity" in body:  # the operator reads its account once at start
                    payload = CALLER_IDENTITY.encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "text/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                request = json.loads(body or b"{}")
                operation = self.headers.get("X-Amz-Target", "").rsplit(".", 1)[-1]
                stand_in.calls[operation] += 1
                status, answer = 200, None
                if stand_in.buckets is not None and not stand_in.buckets.admit(operation):
                    status, answer = 400, {"__type": "ThrottlingException", "message": "Rate exceeded"}
                payload = json.dumps(answer or stand_in.answer(operation, request, received)).encode()
                self.send_response(status)
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
            self.tokens[request["clientToken"]] += 1
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

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def boto3_run_task_cost(url: str, calls: int = 200) -> dict[str, float]:
    """What one RunTask costs in boto3 alone (build, sign, send, parse) against the stand-in,
    one call after another in this process, with the operator's own client configuration:
    wall and CPU milliseconds per call."""
    import boto3

    from ecs_scheduler.adapters.aws import botocore_config

    client = boto3.client(
        "ecs", endpoint_url=url, region_name="us-east-1", aws_access_key_id="bench",
        aws_secret_access_key="bench", config=botocore_config(concurrency=1, max_attempts=5),
    )  # fmt: skip
    request = {"cluster": "bench", "taskDefinition": "bench:1", "count": 1, "clientToken": "calibration" * 4,
               "startedBy": "ecs-scheduler", "tags": [{"key": "ecs-scheduler.dev/job", "value": "team-1/job-1"},
                                                      {"key": "ecs-scheduler.dev/scheduled-at", "value": "2026-11-23T08:00:00Z"}]}  # fmt: skip
    client.run_task(**request)  # the first call loads the service model
    wall, cpu = time.perf_counter(), time.thread_time()
    for _ in range(calls):
        client.run_task(**request)
    result = {
        "wall_ms": 1000 * (time.perf_counter() - wall) / calls,
        "cpu_ms": 1000 * (time.thread_time() - cpu) / calls,
    }
    client.close()
    return result
