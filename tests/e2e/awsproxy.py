"""A recording HTTP proxy in front of the moto server, filling in what ECS does and moto does not.

- clientToken: moto accepts the same clientToken twice and starts tasks twice; ECS does not (for
  24 hours it returns the first call's result). The proxy records every AWS call (operation,
  time, body) and answers a repeated RunTask token from its record, so tests can assert
  "launched exactly once" on what really crossed the wire.
- How tasks end: moto reports every container with exit code 0 and no stop code. The proxy
  rewrites DescribeTasks answers like ECS: no exit code while running; once STOPPED, the exit
  code and stop code a test asked for through the task's environment overrides (EXIT_CODE,
  STOP_CODE, STOPPED_REASON), `UserInitiated` after StopTask, else exit 0 and
  `EssentialContainerExited`.
- ECS's rate limits: `EcsBuckets` throttles each API with its own token bucket, as ECS does
  per account and Region (RunTask: 100 at once, 40 per second), so pacing is measured.
- STS: `deny_roles` answers AssumeRole of those roles with AccessDenied, as STS does when the
  role's trust policy does not name the operator (moto never denies).
- Faults a test needs: `hold()` keeps RunTask answers back (the launch reached ECS, its answer
  has not reached the operator: the moment to SIGKILL it), `forget()` makes ECS forget tasks,
  and a seeded `Faults` plan throttles, fails with 500 after ECS acted, or slows down calls.
"""

import collections
import contextlib
import http.client
import json
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ecs_scheduler.core.buckets import TokenBucket


@dataclass
class Call:
    operation: str
    received: float
    body: dict[str, Any]
    deduplicated: bool = False
    fault: str = "none"


@dataclass
class Faults:
    """Seeded fault injection: each call is throttled (400, never forwarded), answered 500 after
    ECS acted (the answer is lost, the work is done), slowed down, or passed through."""

    seed: int
    throttle: float = 0.20
    server_error: float = 0.05
    slow: float = 0.10
    slow_seconds: tuple[float, float] = (0.2, 1.5)
    injected: dict[str, int] = field(default_factory=lambda: {"throttle": 0, "server_error": 0, "slow": 0})

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()

    def draw(self) -> tuple[str, float]:
        with self._lock:
            roll, delay = self._random.random(), self._random.uniform(*self.slow_seconds)
            for kind, share in (
                ("throttle", self.throttle),
                ("server_error", self.server_error),
                ("slow", self.slow),
            ):
                if roll < share:
                    self.injected[kind] += 1
                    return kind, delay
                roll -= share
        return "none", 0.0


class QuietHandler(BaseHTTPRequestHandler):
    """An AWS endpoint's request handler: HTTP/1.1 keep-alive, no log line per request."""

    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes; with Nagle's algorithm on, the body waits for the
    # client's delayed ACK, 40 ms on Linux, on every call.
    disable_nagle_algorithm = True

    def log_message(self, *args: Any) -> None:
        pass


class EcsBuckets:
    """ECS's API throttling: one token bucket per operation; a call without a token is answered
    400 ThrottlingException and does nothing. `set_rate` models another client of the account
    spending part of the budget."""

    def __init__(self, limits: dict[str, tuple[float, float]]) -> None:
        now = time.monotonic()
        self._buckets = {op: TokenBucket(rate, burst, updated=now) for op, (rate, burst) in limits.items()}
        self._lock = threading.Lock()
        self.admitted: collections.Counter[str] = collections.Counter()
        self.throttled: collections.Counter[str] = collections.Counter()

    def admit(self, operation: str) -> bool:
        with self._lock:
            bucket = self._buckets.get(operation)
            if bucket is None or bucket.try_take(time.monotonic()):
                self.admitted[operation] += 1
                return True
            self.throttled[operation] += 1
            return False

    def set_rate(self, operation: str, rate: float) -> None:
        with self._lock:
            self._buckets[operation].set_rate(rate, time.monotonic())


@dataclass
class Recorder:
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    tokens: dict[str, bytes] = field(default_factory=dict)
    endings: dict[str, dict[str, str]] = field(default_factory=dict)
    """Per task ARN, the environment its RunTask asked for (EXIT_CODE, STOP_CODE, ...)."""
    stopped_at: dict[str, str] = field(default_factory=dict)
    forgotten: set[str] = field(default_factory=set)

    def upstream_run_tasks(self, token: str) -> list[Call]:
        """RunTask calls with this token that reached moto (not answered from the record)."""
        return [
            c
            for c in self.operations("RunTask")
            if c.body.get("clientToken") == token and not c.deduplicated and c.fault != "throttle"
        ]

    def describes_of(self, arn: str) -> int:
        return sum(1 for c in self.operations("DescribeTasks") if arn in c.body.get("tasks", []))

    def operations(self, name: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.operation == name]

    def run_tasks_for(self, job: str) -> list[Call]:
        """RunTask calls whose tags name the job (namespace/name)."""
        return [
            c
            for c in self.operations("RunTask")
            if {"key": "ecs-scheduler.dev/job", "value": job} in c.body.get("tags", [])
        ]


class AwsProxy:
    def __init__(
        self, upstream: str, faults: Faults | None = None, buckets: EcsBuckets | None = None
    ) -> None:
        self.upstream = urlsplit(upstream)
        self.faults = faults
        self.buckets = buckets
        self.recorder = Recorder()
        self.deny_roles: set[str] = set()
        proxy = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                proxy.forward(self)

            def do_GET(self) -> None:
                proxy.forward(self)

        self.released = threading.Event()
        self.released.set()

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a killed operator resets its connections; that is the point of some tests

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "AwsProxy":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @contextmanager
    def hold(self) -> Iterator[None]:
        """RunTask calls reach moto, but their answers wait until the block ends."""
        self.released.clear()
        try:
            yield
        finally:
            self.released.set()

    def forget(self, arns: list[str]) -> None:
        with self.recorder.lock:
            self.recorder.forgotten.update(arns)

    def forward(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        target = request.headers.get("X-Amz-Target", "")
        operation = target.rsplit(".", 1)[-1] if target else _query_action(body)
        try:
            parsed = json.loads(body) if target and body else dict(parse_qsl(body.decode(errors="replace")))
        except ValueError:
            parsed = {}
        call = Call(operation, time.time(), parsed)
        token = parsed.get("clientToken") if operation == "RunTask" else None
        with self.recorder.lock:
            self.recorder.calls.append(call)
            stored = self.recorder.tokens.get(token) if token else None
        fault, delay = self.faults.draw() if self.faults and target else ("none", 0.0)
        if self.buckets is not None and target and not self.buckets.admit(operation):
            fault = "throttle"
        call.fault = fault
        if fault == "throttle":
            self._error(request, 400, "ThrottlingException", "Rate exceeded")
            return
        if operation == "AssumeRole" and parsed.get("RoleArn") in self.deny_roles:
            self._sts_denied(request, str(parsed["RoleArn"]))
            return
        if fault == "slow":
            time.sleep(delay)
        if stored is not None:
            call.deduplicated = True
            self._reply(request, 200, {"Content-Type": "application/x-amz-json-1.1"}, stored)
            return
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "connection")}
        connection = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=30)
        try:  # closed whatever happens: an upstream that times out must not leave its socket to the GC
            connection.request(request.command, request.path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
        finally:
            connection.close()
        if operation == "RunTask" and response.status == 200:
            self._remember_endings(parsed, payload)
            if token:
                with self.recorder.lock:
                    self.recorder.tokens.setdefault(token, payload)
            self.released.wait(timeout=60)
        if operation == "DescribeTasks" and response.status == 200:
            payload = self._like_ecs(payload)
        if fault == "server_error":
            self._error(request, 500, "ServerException", "injected after the call was processed")
            return
        # Date and Server are the proxy's own (send_response): moto's too would make two Date
        # headers, which botocore cannot parse when it retries an answer.
        reply_headers = {
            k: v
            for k, v in response.getheaders()
            if k.lower() not in ("transfer-encoding", "connection", "date", "server")
        }
        self._reply(request, response.status, reply_headers, payload)

    def _error(self, request: BaseHTTPRequestHandler, status: int, code: str, message: str) -> None:
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code}
        self._reply(request, status, headers, body)

    def _sts_denied(self, request: BaseHTTPRequestHandler, role: str) -> None:
        message = f"User: arn:aws:iam::123456789012:user/operator is not authorized to perform: sts:AssumeRole on resource: {role}"
        body = (
            '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
            f"<Code>AccessDenied</Code><Message>{message}</Message></Error><RequestId>e2e</RequestId></ErrorResponse>"
        ).encode()
        self._reply(request, 403, {"Content-Type": "text/xml"}, body)

    def _remember_endings(self, request: dict[str, Any], payload: bytes) -> None:
        environment = {
            e["name"]: e["value"]
            for c in request.get("overrides", {}).get("containerOverrides", [])
            for e in c.get("environment", [])
        }
        with self.recorder.lock:
            for task in json.loads(payload).get("tasks", []):
                self.recorder.endings[task["taskArn"]] = environment

    def _like_ecs(self, payload: bytes) -> bytes:
        answer = json.loads(payload)
        with self.recorder.lock:
            answer["tasks"] = [
                t for t in answer.get("tasks", []) if t["taskArn"] not in self.recorder.forgotten
            ]
            for task in answer["tasks"]:
                ending = self.recorder.endings.get(task["taskArn"], {})
                for container in task.get("containers", []):
                    container["lastStatus"] = task.get("lastStatus", "RUNNING")
                    container.pop("exitCode", None)
                if task.get("lastStatus") != "STOPPED":
                    continue
                stamp = self.recorder.stopped_at.setdefault(
                    task["taskArn"], time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                )
                task["stoppedAt"] = stamp
                if task.get("desiredStatus") == "STOPPED" and task.get("stoppedReason"):
                    task["stopCode"] = "UserInitiated"
                    for container in task.get("containers", []):
                        container["exitCode"] = 143
                    continue
                task["stopCode"] = ending.get("STOP_CODE", "EssentialContainerExited")
                task["stoppedReason"] = ending.get("STOPPED_REASON", "Essential container in task exited")
                for container in task.get("containers", []):
                    container["exitCode"] = int(ending.get("EXIT_CODE", "0"))
        return json.dumps(answer).encode()

    @staticmethod
    def _reply(request: BaseHTTPRequestHandler, status: int, headers: dict[str, str], payload: bytes) -> None:
        request.send_response(status)
        for key, value in headers.items():
            if key.lower() != "content-length":
                request.send_header(key, value)
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # a killed operator's call
            request.wfile.write(payload)


def _query_action(body: bytes) -> str:
    for pair in body.decode(errors="replace").split("&"):
        if pair.startswith("Action="):
            return pair.removeprefix("Action=")
    return "unknown"
