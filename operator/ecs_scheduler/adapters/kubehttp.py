"""The Kubernetes API over aiohttp (kopf's own HTTP library), for the operator's hot writes.

The official client runs each call in a thread and turns every response into Python objects;
at thousands of status patches a minute, that work and the threads' competition for the
interpreter were the largest part of the operator's CPU. Here a request is made on the event
loop, and a response body is read as bytes and parsed only when the caller asks for it.

Credentials come from the official client's configuration loader (in-cluster service account,
or the kubeconfig with its exec plugins); its refresh hook runs before each request, so rotated
service-account tokens and expiring exec tokens are picked up as the official client would.
"""

import asyncio
import json
import ssl
from dataclasses import dataclass
from typing import Any

import aiohttp
import kubernetes

MERGE_PATCH = "application/merge-patch+json"


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def message(self) -> str:
        """The Status message of an error answer, or its first bytes."""
        try:
            return str(self.json().get("message") or self.body[:200].decode(errors="replace"))
        except ValueError:
            return self.body[:200].decode(errors="replace")


def _ssl_context(configuration: kubernetes.client.Configuration) -> ssl.SSLContext | bool:
    if not configuration.host.startswith("https:"):
        return False
    context = ssl.create_default_context(cafile=configuration.ssl_ca_cert)
    if configuration.cert_file:
        context.load_cert_chain(configuration.cert_file, configuration.key_file)
    if not configuration.verify_ssl:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class KubeHttp:
    def __init__(
        self, configuration: kubernetes.client.Configuration, *, concurrency: int, user_agent: str
    ) -> None:
        self._configuration = configuration
        self._host = configuration.host.rstrip("/")
        self._concurrency = concurrency
        self._user_agent = user_agent
        self._ssl = _ssl_context(configuration)
        self._session: aiohttp.ClientSession | None = None

    def _headers(self, content_type: str | None, accept: str) -> dict[str, str]:
        headers = {"User-Agent": self._user_agent, "Accept": accept}
        if content_type:
            headers["Content-Type"] = content_type
        # auth_settings() runs the loader's refresh hook first: rotated tokens are picked up.
        for setting in self._configuration.auth_settings().values():
            if setting.get("in") == "header" and setting.get("value"):
                headers[setting["key"]] = setting["value"]
        return headers

    def _session_now(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._concurrency, ssl=self._ssl)
            timeout = aiohttp.ClientTimeout(total=30, connect=10)
            self._session = aiohttp.ClientSession(connector=connector, timeout=timeout)
        return self._session

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        content_type: str = "application/json",
        accept: str = "application/json",
    ) -> Answer:
        """One request; the answer's body is read, not parsed. Raises aiohttp.ClientError and
        asyncio.TimeoutError when there is no answer."""
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        session = self._session_now()
        async with session.request(
            method,
            self._host + path,
            data=data,
            headers=self._headers(content_type if data is not None else None, accept),
        ) as response:
            return Answer(response.status, await response.read())

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            # Let the connector's transports finish closing (aiohttp's documented grace).
            await asyncio.sleep(0)
