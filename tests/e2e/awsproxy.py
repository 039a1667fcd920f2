"""A recording HTTP proxy in front of the moto server, honouring RunTask's clientToken like ECS.

moto accepts the same clientToken twice and starts tasks twice; ECS does not (for 24 hours it
returns the first call's result). The proxy records every AWS call (operation, time, body) and
answers a repeated RunTask token from its record, so tests can assert "launched exactly once"
on what really crossed the wire.
"""

import http.client
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Call:
    operation: str
    received: float
    body: dict[str, Any]
    deduplicated: bool = False


@dataclass
class Recorder:
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    tokens: dict[str, bytes] = field(default_factory=dict)

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
    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.recorder = Recorder()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                proxy.forward(self)

            def do_GET(self) -> None:
                proxy.forward(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
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

    def forward(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        target = request.headers.get("X-Amz-Target", "")
        operation = target.rsplit(".", 1)[-1] if target else _query_action(body)
        try:
            parsed = json.loads(body) if target and body else {}
        except ValueError:
            parsed = {}
        call = Call(operation, time.time(), parsed)
        token = parsed.get("clientToken") if operation == "RunTask" else None
        with self.recorder.lock:
            self.recorder.calls.append(call)
            stored = self.recorder.tokens.get(token) if token else None
        if stored is not None:
            call.deduplicated = True
            self._reply(request, 200, {"Content-Type": "application/x-amz-json-1.1"}, stored)
            return
        connection = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=30)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "connection")}
        connection.request(request.command, request.path, body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        if token and response.status == 200:
            with self.recorder.lock:
                self.recorder.tokens.setdefault(token, payload)
        reply_headers = {
            k: v for k, v in response.getheaders() if k.lower() not in ("transfer-encoding", "connection")
        }
        connection.close()
        self._reply(request, response.status, reply_headers, payload)

    @staticmethod
    def _reply(request: BaseHTTPRequestHandler, status: int, headers: dict[str, str], payload: bytes) -> None:
        request.send_response(status)
        for key, value in headers.items():
            if key.lower() != "content-length":
                request.send_header(key, value)
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)


def _query_action(body: bytes) -> str:
    for pair in body.decode(errors="replace").split("&"):
        if pair.startswith("Action="):
            return pair.removeprefix("Action=")
    return "unknown"
