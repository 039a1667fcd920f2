"""A local HTTPS webhook receiver (its own CA) that records what it was sent and can fail on demand."""

import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.e2e.awsproxy import QuietHandler
from tests.e2e.certs import serving_certificate


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float = 0.0

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class WebhookReceiver:
    directory: Path
    received: list[Received] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)
    """HTTP statuses to answer with before answering 204 again."""
    redirect_to: str | None = None
    """Answer every POST with 307 and this Location."""
    hang: threading.Event | None = None
    """Accept every POST and answer nothing until this is set."""
    same_ca_as: "WebhookReceiver | None" = None
    """Serve with this receiver's certificate, so one CA file verifies both."""

    def __post_init__(self) -> None:
        if self.same_ca_as is not None:
            certificate = self.same_ca_as.certificate
        else:
            certificate = serving_certificate(self.directory, hosts=("127.0.0.1",))
        self.certificate = certificate
        self.ca_file = self.directory / "webhook-ca.pem"
        self.ca_file.parent.mkdir(parents=True, exist_ok=True)
        self.ca_file.write_bytes(certificate.ca_pem)
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append(Received(dict(self.headers.items()), body, time.time()))
                if receiver.hang is not None:
                    receiver.hang.wait(60)
                status = receiver.failures.pop(0) if receiver.failures else 204
                if receiver.redirect_to is not None:
                    status = 307
                self.send_response(status)
                if receiver.redirect_to is not None:
                    self.send_header("Location", receiver.redirect_to)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate.cert_file, certificate.key_file)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self._server.server_address[1]}/hooks/ecs"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="webhook")
        self._thread.start()

    def stop(self) -> None:
        if self.hang is not None:
            self.hang.set()
        self._server.shutdown()
        self._server.server_close()
