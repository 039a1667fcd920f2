"""The run policies: what a fire does while a run is active, and which failures are retried."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import Literal

from ecs_scheduler.model.spec import ConcurrencyPolicy, RetryPolicy

ConcurrencyAction = Literal["Launch", "Skip", "ReplaceThenLaunch"]

MAX_BACKOFF = timedelta(hours=1)


def concurrency_action(policy: ConcurrencyPolicy, active_runs: int) -> ConcurrencyAction:
    """Allow always launches; Forbid skips and Replace replaces, only while a run is active."""
    if active_runs == 0 or policy == "Allow":
        return "Launch"
    return "Skip" if policy == "Forbid" else "ReplaceThenLaunch"


def retryable(policy: RetryPolicy, code: str) -> bool:
    """Whether a failure code (RunTask reason, API error code or stop code) matches retryOn."""
    return any(fnmatchcase(code, pattern) for pattern in policy.retry_on)


@dataclass(frozen=True)
class RetryPlan:
    at: datetime
    attempt: int
    tasks: int


def plan_retry(
    policy: RetryPolicy | None, *, attempt: int, failure_codes: Sequence[str], now: datetime
) -> RetryPlan | None:
    """The next attempt for the retryable failures of attempt `attempt`, if one is allowed."""
    if policy is None or attempt >= policy.max_attempts:
        return None
    tasks = sum(1 for code in failure_codes if retryable(policy, code))
    if tasks == 0:
        return None
    backoff = min(timedelta(seconds=policy.backoff_seconds * 2 ** (attempt - 1)), MAX_BACKOFF)
    return RetryPlan(now + backoff, attempt + 1, tasks)
