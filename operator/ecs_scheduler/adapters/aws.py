"""boto3 clients shared by the AWS adapters: one per (service, region), calls in a bounded pool.

boto3 blocks, so every call runs in a thread pool whose size is the concurrency bound.
Retries use botocore's "standard" retry mode (throttling and transient errors, with jittered
backoff); nothing here retries by hand.
"""

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import boto3
from botocore.config import Config

from ecs_scheduler.model import names

T = TypeVar("T")

CallObserver = Callable[[str, str, str], None]
"""Told (service, operation, outcome) after every AWS call: outcome is "success" or the error code."""
ThrottleObserver = Callable[[str, str | None], None]
"""Told (operation, region) of every throttled attempt, before botocore retries it."""

THROTTLE_CODES = frozenset(
    {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"}
)


def botocore_config(*, concurrency: int, max_attempts: int) -> Config:
    """How every client of the operator talks to AWS.

    An explicit User-Agent names the operator in CloudTrail, and spares botocore from
    assembling and sanitising its default one on every call (about 12 % of a RunTask's CPU).
    """
    return Config(
        retries={"mode": "standard", "max_attempts": max_attempts},
        max_pool_connections=concurrency,
        user_agent=names.USER_AGENT,
    )


class AwsClients:
    def __init__(
        self,
        *,
        default_region: str | None,
        endpoint_url: str | None,
        concurrency: int,
        max_attempts: int,
        observer: CallObserver | None = None,
        throttles: ThrottleObserver | None = None,
    ) -> None:
        self._observer = observer
        self.throttles = throttles
        self.default_region = default_region
        self._endpoint_url = endpoint_url
        self._config = botocore_config(concurrency=concurrency, max_attempts=max_attempts)
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="aws")
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._lock = threading.Lock()
        self._session = boto3.session.Session()

    def client(self, service: str, region: str | None) -> Any:
        """A cached client; created inside the pool because creating one reads files and blocks."""
        key = (service, region or self.default_region)
        with self._lock:
            if key not in self._clients:
                client = self._session.client(
                    service, region_name=key[1], endpoint_url=self._endpoint_url, config=self._config
                )
                if self._observer is not None:
                    client.meta.events.register("after-call", self._after_call)
                    client.meta.events.register("after-call-error", self._after_call_error)
                # First, and returning None: botocore's own retry handler still decides.
                client.meta.events.register_first(f"needs-retry.{service}", self._attempt_answered)
                self._clients[key] = client
            return self._clients[key]

    def _after_call(self, *, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        # Once per call, after botocore's retries: the outcome the adapter saw.
        error = parsed.get("Error", {}).get("Code") if isinstance(parsed, dict) else None
        assert self._observer is not None
        self._observer(model.service_model.service_name, model.name, str(error or "success"))

    def _attempt_answered(self, *, response: Any, operation: Any, **kwargs: Any) -> None:
        if self.throttles is None or not response:
            return
        parsed = response[1]
        code = parsed.get("Error", {}).get("Code") if isinstance(parsed, dict) else None
        if code in THROTTLE_CODES:
            region = kwargs.get("request_dict", {}).get("context", {}).get("client_region")
            self.throttles(operation.name, region)

    def _after_call_error(self, *, exception: Exception, model: Any, **_: Any) -> None:
        assert self._observer is not None
        self._observer(model.service_model.service_name, model.name, type(exception).__name__)

    def submit(self, blocking: Callable[[], T]) -> "asyncio.Future[T]":
        """Queue a blocking boto3 call in the pool now; the future gives its result."""
        return asyncio.get_running_loop().run_in_executor(self._executor, blocking)

    async def call(self, blocking: Callable[[], T]) -> T:
        """Run a blocking boto3 call in the pool."""
        return await self.submit(blocking)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        for client in self._clients.values():
            client.close()
