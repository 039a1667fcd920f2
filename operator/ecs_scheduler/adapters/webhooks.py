"""HTTPS webhook deliveries, screened where the connection is made.

aiohttp resolves every host through `ScreeningResolver`, which refuses an answer the egress
policy refuses before anything connects to it: retries and keep-alive reconnects included, and
there is no second lookup that a changed DNS answer (rebinding) could slip through. IP literals,
which aiohttp connects to without a resolver, are screened by name before the request. Redirects
are never followed. No proxy from the environment is used (trust_env off), so none can carry a
delivery around the screen.
"""

import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from ecs_scheduler.model import names

WEBHOOK_TIMEOUT = 10.0
"""Seconds for a whole delivery: an endpoint that accepts and never answers is given up then."""
CONNECT_TIMEOUT = 2.0
"""Seconds to connect (TLS included): far shorter, since an endpoint that is down should not
hold a delivery slot for the whole read timeout."""
SIGNATURE_HEADER = "X-Ecs-Scheduler-Signature"
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"


class DeliveryFailed(Exception):
    """A notification did not arrive. `final`: trying again cannot help (refused by policy).
    `warn`: the job's owner hears of it at once (a Warning event), not only after the last
    attempt: a refused address, a redirect."""

    def __init__(self, message: str, *, final: bool = False, warn: bool = False) -> None:
        super().__init__(message)
        self.final = final
        self.warn = warn


class AddressRefused(OSError):
    """A webhook host resolved to an address the egress policy refuses."""


@dataclass(frozen=True)
class Egress:
    """The policy for webhook destinations, handed in from the core (core.egress)."""

    refused_name: Callable[[str], str | None]
    """Why a host is refused by its form (cluster names, bare names, refused IP literals)."""
    refused_address: Callable[[str], str | None]
    """Why an address may not be connected to."""
    allowed: Callable[[str], bool]
    """The operator allows this host name although it is internal (that name only: an alias
    pointing elsewhere is looked up under its own name, and redirects are not followed)."""


class ScreeningResolver(AbstractResolver):
    """aiohttp's resolver for webhooks: every answer is screened before aiohttp connects to it."""

    def __init__(self, egress: Egress, inner: AbstractResolver | None = None) -> None:
        self._egress = egress
        self._inner = inner or ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        if self._egress.allowed(host):
            return answers
        for answer in answers:
            if (why := self._egress.refused_address(str(answer["host"]))) is not None:
                raise AddressRefused(f"{host} resolves to {why}")
        return answers

    async def close(self) -> None:
        await self._inner.close()


class WebhookPoster:
    """POSTs signed CloudEvents; one aiohttp session, created on first use."""

    def __init__(
        self, egress: Egress, *, ca_file: str | None = None, resolver: AbstractResolver | None = None
    ) -> None:
        self._egress = egress
        self._resolver = resolver
        self._ssl = ssl.create_default_context(cafile=ca_file)
        self._session: aiohttp.ClientSession | None = None

    def screen_name(self, host: str) -> None:
        """Refuse a host by its form, before any Secret is read for it; its addresses are
        screened when connecting."""
        if self._egress.allowed(host):
            return
        if (why := self._egress.refused_name(host)) is not None:
            raise DeliveryFailed(f"refused: {why}", final=True, warn=True)

    async def post(self, url: str, host: str, body: bytes, signature: str) -> None:
        headers = {"Content-Type": CONTENT_TYPE, "User-Agent": names.USER_AGENT, SIGNATURE_HEADER: signature}
        try:
            session = self._session_now()
            async with session.post(url, data=body, headers=headers, allow_redirects=False) as response:
                if 300 <= response.status < 400:
                    # Never followed: a redirect would take the body and its signature to a host
                    # nobody screened or allowed. A failure like any other, retried at this URL.
                    location = response.headers.get("Location", "no Location")
                    raise DeliveryFailed(
                        f"HTTP {response.status} redirect from {host} to {location[:300]}: not followed "
                        "(a webhook must answer at its own URL)",
                        warn=True,
                    )
                if not 200 <= response.status < 300:
                    raise DeliveryFailed(f"HTTP {response.status} from {host}")
        except aiohttp.ClientConnectorError as error:
            if isinstance(error.os_error, AddressRefused):
                raise DeliveryFailed(f"refused: {error.os_error}", final=True, warn=True) from None
            raise DeliveryFailed(f"{type(error).__name__}: {error}") from None
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DeliveryFailed(f"{type(error).__name__}: {error}") from None

    def _session_now(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                ssl=self._ssl, limit=16, resolver=ScreeningResolver(self._egress, self._resolver)
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT, connect=CONNECT_TIMEOUT),
                trust_env=False,
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
