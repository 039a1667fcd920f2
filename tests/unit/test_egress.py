"""Where a tenant's webhook may go: the screen (core.egress), the resolver that applies it to every
connection (adapters.webhooks), and redirects, with real HTTPS servers on loopback."""

import asyncio
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from ecs_scheduler.adapters.webhooks import AddressRefused, DeliveryFailed, ScreeningResolver, WebhookPoster
from ecs_scheduler.core.egress import embedded_ipv4, internal_address, refused_address, refused_name
from ecs_scheduler.runtime.wiring import egress_policy
from tests.e2e.awsproxy import QuietHandler
from tests.e2e.certs import serving_certificate


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("93.184.216.34", None),
        ("2606:4700::1111", None),
        ("8.8.8.8", None),
        # Every range that is not globally reachable unicast
        ("0.0.0.0", "internal"), ("10.1.2.3", "internal"), ("100.64.0.1", "internal"), ("100.127.255.254", "internal"),
        ("127.0.0.1", "internal"), ("127.255.255.254", "internal"), ("169.254.169.254", "link-local"),
        ("172.16.0.1", "internal"), ("172.31.255.255", "internal"), ("192.0.0.8", "internal"), ("192.0.0.170", "internal"),
        ("192.0.2.1", "internal"), ("192.88.99.1", "internal"), ("192.168.1.1", "internal"), ("198.18.0.1", "internal"),
        ("198.51.100.7", "internal"), ("203.0.113.9", "internal"), ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"), ("240.0.0.1", "internal"), ("255.255.255.255", "internal"),
        ("::", "internal"), ("::1", "internal"), ("fe80::1%eth0", "link-local"), ("fc00::1", "internal"),
        ("fd12:3456::1", "internal"), ("fec0::1", "internal"), ("ff02::1", "multicast"), ("ff05::2", "multicast"),
        ("2001:db8::1", "internal"), ("100::1", "internal"), ("64:ff9b:1::1", "internal"), ("3fff::1", "internal"),
        # IPv4 embedded in IPv6: unwrapped and screened as IPv4
        ("::ffff:127.0.0.1", "internal"), ("::ffff:169.254.169.254", "link-local"), ("::ffff:10.0.0.1", "internal"),
        ("::127.0.0.1", "127.0.0.1"), ("::169.254.169.254", "169.254.169.254"),
        ("2002:7f00:1::1", "127.0.0.1"), ("2002:a9fe:a9fe::1", "169.254.169.254"), ("2002:0a00:0001::1", "10.0.0.1"),
        ("64:ff9b::7f00:1", "127.0.0.1"), ("64:ff9b::a9fe:a9fe", "169.254.169.254"), ("64:ff9b::808:808", None),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "internal"),  # Teredo (and 2001::/23 as a whole)
        ("2002:0808:0808::1", None),  # 6to4 of 8.8.8.8
        ("not an address", "not an IP address"),
    ],
)  # fmt: skip
def test_only_globally_reachable_unicast_passes(address: str, refused: str | None) -> None:
    why = refused_address(address)
    assert (why is None) if refused is None else (why is not None and refused in why), why


def test_every_embedding_form_is_unwrapped() -> None:
    import ipaddress

    forms = ["::ffff:7f00:1", "::7f00:1", "2002:7f00:1::", "64:ff9b::7f00:1", "2001:0:0:0:0:0:80ff:fffe"]
    assert [str(embedded_ipv4(ipaddress.IPv6Address(form))[-1]) for form in forms] == ["127.0.0.1"] * 5


@pytest.mark.parametrize(
    ("host", "refused"),
    [
        ("hooks.example.com", None), ("hooks.example.com.", None), ("kubernetes", "bare name"),
        ("metadata", "bare name"), ("instance-data", "bare name"), ("localhost", "cluster-internal"),
        ("LOCALHOST", "cluster-internal"), ("api.localhost", "cluster-internal"), ("grafana.monitoring.svc", "cluster-internal"),
        ("kubernetes.default.svc.cluster.local", "cluster-internal"), ("db.corp.internal", "cluster-internal"),
        ("printer.local", "cluster-internal"), ("127.0.0.1", "internal address 127.0.0.1"), ("[::1]", "internal"),
        ("[::ffff:169.254.169.254]", "link-local"), ("93.184.216.34", None),
    ],
)  # fmt: skip
def test_hosts_refused_by_their_form(host: str, refused: str | None) -> None:
    why = refused_name(host)
    assert (why is None) if refused is None else (why is not None and refused in why), why


def test_a_public_name_resolving_inside_is_refused() -> None:
    assert "internal address 10.0.0.5" in str(
        internal_address("hooks.example.com", ["93.184.216.34", "10.0.0.5"])
    )


class StubResolver(AbstractResolver):
    """Answers from a script, one answer list per lookup (the last one repeats)."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.lookups: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.lookups.append(host)
        addresses = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return [ResolveResult(hostname=host, host=a, port=port, family=socket.AF_INET6 if ":" in a else socket.AF_INET,
                              proto=0, flags=0) for a in addresses]  # fmt: skip

    async def close(self) -> None:
        pass


def test_the_resolver_screens_every_lookup_so_rebinding_gains_nothing() -> None:
    stub = StubResolver(["93.184.216.34"], ["127.0.0.1"])
    resolver = ScreeningResolver(egress_policy(()), stub)

    async def twice() -> tuple[list[ResolveResult], str]:
        first = await resolver.resolve("rebind.example.com", 443)
        with pytest.raises(AddressRefused) as caught:
            await resolver.resolve("rebind.example.com", 443)
        return first, str(caught.value)

    first, refused = asyncio.run(twice())
    assert [a["host"] for a in first] == ["93.184.216.34"]
    assert "rebind.example.com resolves to internal address 127.0.0.1" in refused


def test_an_allowed_host_is_allowed_for_its_own_name_only() -> None:
    resolver = ScreeningResolver(egress_policy(("hooks.internal.example",)), StubResolver(["10.0.0.7"]))

    async def both() -> str:
        assert [a["host"] for a in await resolver.resolve("hooks.internal.example", 443)] == ["10.0.0.7"]
        with pytest.raises(AddressRefused) as caught:  # another name with the same answer (an alias of it)
            await resolver.resolve("alias.example.com", 443)
        return str(caught.value)

    assert "alias.example.com resolves to internal address 10.0.0.7" in asyncio.run(both())


class Server:
    """A local HTTPS server that records POSTs and answers with `status` (and `location`)."""

    def __init__(self, directory: Path, *, status: int = 204, location: str | None = None) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        certificate = serving_certificate(directory, hosts=("127.0.0.1", "localhost", "hooks.example.com"))
        self.ca_file = directory / "ca.pem"
        self.ca_file.write_bytes(certificate.ca_pem)
        self.received: list[str] = []
        server = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                server.received.append(self.path)
                self.send_response(status)
                if location is not None:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate.cert_file, certificate.key_file)
        self._http.socket = context.wrap_socket(self._http.socket, server_side=True)
        self.port = self._http.server_address[1]
        threading.Thread(target=self._http.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


def post(poster: WebhookPoster, url: str, host: str) -> DeliveryFailed | None:
    async def run() -> DeliveryFailed | None:
        try:
            poster.screen_name(host)
            await poster.post(url, host, b"{}", "sha256=x")
        except DeliveryFailed as error:
            return error
        finally:
            await poster.close()
        return None

    return asyncio.run(run())


def test_a_public_name_that_resolves_to_loopback_is_refused_at_connect(
    tmp_path: Path, servers: list[Server]
) -> None:
    target = Server(tmp_path / "target")
    servers.append(target)
    stub = StubResolver(["127.0.0.1"])
    poster = WebhookPoster(egress_policy(()), ca_file=str(target.ca_file), resolver=stub)
    error = post(poster, f"https://hooks.example.com:{target.port}/hook", "hooks.example.com")
    assert error is not None and error.final and error.warn
    assert "hooks.example.com resolves to internal address 127.0.0.1" in str(error)
    assert target.received == []
    assert stub.lookups == ["hooks.example.com"], "one lookup, made by the connection itself"


def test_an_allowed_name_is_delivered(tmp_path: Path, servers: list[Server]) -> None:
    target = Server(tmp_path / "target")
    servers.append(target)
    poster = WebhookPoster(egress_policy(("hooks.example.com",)), ca_file=str(target.ca_file),
                           resolver=StubResolver(["127.0.0.1"]))  # fmt: skip
    assert post(poster, f"https://hooks.example.com:{target.port}/hook", "hooks.example.com") is None
    assert target.received == ["/hook"]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirects_are_not_followed(tmp_path: Path, servers: list[Server], status: int) -> None:
    stolen = Server(tmp_path / "stolen")
    bouncer = Server(tmp_path / "bouncer", status=status, location=f"https://localhost:{stolen.port}/stolen")
    servers.extend([stolen, bouncer])
    # The bouncer's name is allowed (as a tenant's public endpoint would be); localhost is not.
    poster = WebhookPoster(egress_policy(("hooks.example.com",)), ca_file=str(bouncer.ca_file),
                           resolver=StubResolver(["127.0.0.1"]))  # fmt: skip
    error = post(poster, f"https://hooks.example.com:{bouncer.port}/hook", "hooks.example.com")
    assert error is not None and not error.final and error.warn
    assert f"HTTP {status} redirect" in str(error) and f"https://localhost:{stolen.port}/stolen" in str(error)
    assert bouncer.received == ["/hook"]
    assert stolen.received == []


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "localhost", "kubernetes"])
def test_literal_and_internal_names_are_refused_before_any_connection(host: str) -> None:
    poster = WebhookPoster(egress_policy(()), resolver=StubResolver(["93.184.216.34"]))
    error = post(poster, f"https://{host}:1/hook", host)
    assert error is not None and error.final
