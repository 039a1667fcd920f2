"""What crosses the boundary between the core and the ECS adapter."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ecs_scheduler.model.aws import AwsScope


@dataclass(frozen=True)
class RunTaskCall:
    """One ECS RunTask call: where it goes (credentials and region) and its request body,
    exactly as the API takes it."""

    scope: AwsScope
    request: dict[str, Any]
    namespace: str = ""
    """Whose turn it is when calls queue behind the RunTask rate limit."""
    scheduled: datetime | None = None
    """The instant it is for: queued calls go earliest first."""
    deadline: datetime | None = None
    """Past this (startingDeadlineSeconds) a queued call is not sent: the run is missed."""
    behind: bool = False
    """A backfill's call: sent only with RunTask budget that no scheduled fire needs."""

    @property
    def count(self) -> int:
        return int(self.request["count"])

    @property
    def client_token(self) -> str:
        return str(self.request["clientToken"])


@dataclass(frozen=True)
class LaunchFailure:
    """Why ECS did not start a task: a `failures[]` entry or an API error."""

    reason: str
    detail: str = ""
    arn: str | None = None
    uncertain: bool = False
    """True when the call may have started tasks anyway (a 5xx or a lost answer after retries):
    a retry must then reuse the clientToken, so ECS returns those tasks instead of starting more."""


@dataclass(frozen=True)
class RunTaskOutcome:
    """What one RunTask call gave: the tasks it started and the failures it reported."""

    task_arns: tuple[str, ...] = ()
    task_statuses: tuple[str, ...] = ()
    failures: tuple[LaunchFailure, ...] = field(default_factory=tuple)
    queued_seconds: float = 0.0
    """How long the call waited behind the RunTask rate limit before it was sent."""


@dataclass(frozen=True)
class RequestProblem:
    """A member of an ECS request (dotted path, as in ECS's API) and what is wrong with it."""

    path: str
    message: str
