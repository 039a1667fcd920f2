"""boto3 clients shared by the AWS adapters: one per (service, role, region), calls in a bounded pool.

boto3 blocks, so every call runs in a thread pool whose size is the concurrency bound.
Retries use botocore's "standard" retry mode (throttling and transient errors, with jittered
backoff); nothing here retries by hand.

A job with a role (spec.roleArn) gets clients whose credentials come from STS AssumeRole through
botocore's own refreshable credentials: fetched on first use, refreshed before they expire
(botocore's advisory and mandatory windows), one session per AssumedRole shared by its clients.
"""

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final, TypeVar

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    CredentialProvider,
    CredentialResolver,
    Credentials,
    DeferredRefreshableCredentials,
)
from botocore.exceptions import BotoCoreError, ClientError

from ecs_scheduler.model import names
from ecs_scheduler.model.aws import AssumedRole, AwsScope

logger = logging.getLogger(__name__)

T = TypeVar("T")

CallObserver = Callable[[str, str, str], None]
"""Told (service, operation, outcome) after every AWS call: outcome is "success" or the error code."""
ThrottleObserver = Callable[[str, AwsScope], None]
"""Told (operation, scope) of every throttled attempt, before botocore retries it."""
AssumeRoleObserver = Callable[[str, str], None]
"""Told (role ARN, outcome) after every AssumeRole: outcome is "success" or the error code."""
TimeFetcher = Callable[[], Any]
"""What botocore's refreshable credentials read the time from (a timezone-aware datetime)."""


ASSUME_ROLE_FAILED: Final = "AssumeRoleFailed"
"""How a launch failure, a trigger failure and the Ready condition name an AssumeRoleFailed."""


class AssumeRoleFailed(BotoCoreError):  # type: ignore[misc]
    """STS refused (or could not be reached for) the role a job's calls need: nothing was sent
    to the job's service. A BotoCoreError, so every adapter's AWS error handling sees it too."""

    fmt = "could not assume {role_arn}: {code}: {message}"

    role_arn: str
    code: str
    message: str

    def __init__(self, *, role_arn: str, code: str, message: str) -> None:
        super().__init__(role_arn=role_arn, code=code, message=message)
        self.role_arn, self.code, self.message = role_arn, code, message


class _NoCache(dict[str, Any]):
    """The fetcher's cache, disabled: the refreshable credentials decide when to call STS."""

    def __contains__(self, key: object) -> bool:
        return False

    def __setitem__(self, key: str, value: Any) -> None:
        return None


class _FixedCredentials(CredentialProvider):  # type: ignore[misc]
    METHOD = "assume-role"

    def __init__(self, credentials: Credentials) -> None:
        self._credentials = credentials

    def load(self) -> Credentials:
        return self._credentials


THROTTLE_CODES = frozenset(
    {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"}
)


def error_parts(error: Exception) -> tuple[str, str]:
    """(code, message) of a failed AWS call: AWS's error code and message, STS's for a refused
    AssumeRole, else the exception's type and text (no answer at all)."""
    if isinstance(error, AssumeRoleFailed):
        return error.code, error.message
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        return str(info.get("Code", "ClientError")), str(info.get("Message", ""))
    return type(error).__name__, str(error)


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
        assume_roles: AssumeRoleObserver | None = None,
        role_duration: int = 3600,
        time_fetcher: TimeFetcher | None = None,
    ) -> None:
        self._observer = observer
        self.throttles = throttles
        self._assume_roles = assume_roles
        self._role_duration = role_duration
        self._time_fetcher = time_fetcher
        self.default_region = default_region
        self._endpoint_url = endpoint_url
        self._config = botocore_config(concurrency=concurrency, max_attempts=max_attempts)
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="aws")
        self._clients: dict[tuple[str, AssumedRole | None, str | None], Any] = {}
        self._sessions: dict[AssumedRole, boto3.session.Session] = {}
        self._lock = threading.RLock()
        self._session = boto3.session.Session()

    def client(self, service: str, scope: AwsScope) -> Any:
        """A cached client for the scope; created inside the pool because creating one reads
        files and blocks."""
        region = scope.region or self.default_region
        key = (service, scope.role, region)
        with self._lock:
            if key not in self._clients:
                session = self._session if scope.role is None else self._role_session(scope.role)
                self._clients[key] = self._new_client(session, service, AwsScope(region, scope.role))
            return self._clients[key]

    def _new_client(self, session: boto3.session.Session, service: str, scope: AwsScope) -> Any:
        client = session.client(
            service, region_name=scope.region, endpoint_url=self._endpoint_url, config=self._config
        )
        if self._observer is not None:
            client.meta.events.register("after-call", self._after_call)
            client.meta.events.register("after-call-error", self._after_call_error)

        def answered(*, response: Any, operation: Any, **_: Any) -> None:
            self._attempt_answered(response, operation, scope)

        # First, and returning None: botocore's own retry handler still decides.
        client.meta.events.register_first(f"needs-retry.{service}", answered)
        return client

    def _role_session(self, role: AssumedRole) -> boto3.session.Session:
        """One boto3 session per assumed role, whose credentials botocore refreshes itself."""
        if role not in self._sessions:
            extra: dict[str, Any] = {
                "RoleSessionName": role.session_name,
                "DurationSeconds": self._role_duration,
            }
            if role.external_id is not None:
                extra["ExternalId"] = role.external_id
            fetcher = AssumeRoleCredentialFetcher(
                client_creator=self._sts_client,
                source_credentials=self._session.get_credentials(),
                role_arn=role.arn,
                extra_args=extra,
                cache=_NoCache(),
            )
            timing = {"time_fetcher": self._time_fetcher} if self._time_fetcher is not None else {}
            credentials = DeferredRefreshableCredentials(
                refresh_using=lambda: self._assume(role, fetcher), method="assume-role", **timing
            )
            core = botocore.session.Session()
            core.register_component(
                "credential_provider", CredentialResolver([_FixedCredentials(credentials)])
            )
            self._sessions[role] = boto3.session.Session(botocore_session=core)
        return self._sessions[role]

    def _sts_client(self, service: str, **kwargs: Any) -> Any:
        # The fetcher passes the source credentials; the endpoint and config are the operator's.
        kwargs.setdefault("region_name", self.default_region)
        return self._session.client(service, endpoint_url=self._endpoint_url, config=self._config, **kwargs)

    def _assume(self, role: AssumedRole, fetcher: AssumeRoleCredentialFetcher) -> dict[str, Any]:
        try:
            fetched: dict[str, Any] = fetcher.fetch_credentials()
        except (ClientError, BotoCoreError) as error:
            code, message = error_parts(error)
        else:
            if self._assume_roles is not None:
                self._assume_roles(role.arn, "success")
            return fetched
        if self._assume_roles is not None:
            self._assume_roles(role.arn, code)
        raise AssumeRoleFailed(role_arn=role.arn, code=code, message=message)

    def _after_call(self, *, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        # Once per call, after botocore's retries: the outcome the adapter saw.
        error = parsed.get("Error", {}).get("Code") if isinstance(parsed, dict) else None
        assert self._observer is not None
        self._observer(model.service_model.service_name, model.name, str(error or "success"))

    def _attempt_answered(self, response: Any, operation: Any, scope: AwsScope) -> None:
        if self.throttles is None or not response:
            return
        parsed = response[1]
        code = parsed.get("Error", {}).get("Code") if isinstance(parsed, dict) else None
        if code in THROTTLE_CODES:
            self.throttles(operation.name, scope)

    def _after_call_error(self, *, exception: Exception, model: Any = None, **_: Any) -> None:
        if model is None or isinstance(exception, AssumeRoleFailed):
            return  # failed before its request existed (no credentials): counted as an AssumeRole
        assert self._observer is not None
        self._observer(model.service_model.service_name, model.name, type(exception).__name__)

    def submit(self, blocking: Callable[[], T]) -> "asyncio.Future[T]":
        """Queue a blocking boto3 call in the pool now; the future gives its result."""
        return asyncio.get_running_loop().run_in_executor(self._executor, blocking)

    async def call(self, blocking: Callable[[], T]) -> T:
        """Run a blocking boto3 call in the pool."""
        return await self.submit(blocking)

    async def own_account(self) -> str | None:
        """The account of the operator's own credentials (STS GetCallerIdentity); None, with a
        warning, when it cannot be read: ARNs of clusters are then matched by the tenant policy
        only as whole ARNs."""

        def ask() -> str:
            return str(self.client("sts", AwsScope(self.default_region)).get_caller_identity()["Account"])

        try:
            return await self.call(ask)
        except (BotoCoreError, ClientError) as error:
            logger.warning("could not read the operator's AWS account (%s: %s)", *error_parts(error))
            return None

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        for client in self._clients.values():
            client.close()
