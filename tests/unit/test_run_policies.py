"""Concurrency decisions, retry plans and history trimming: pure tables."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ecs_scheduler.core.history import with_record
from ecs_scheduler.core.policies import concurrency_action, plan_retry, retryable
from ecs_scheduler.model.spec import RetryPolicy

NOW = datetime(2026, 11, 22, 5, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("policy", "active", "expected"),
    [
        ("Allow", 0, "Launch"),
        ("Allow", 2, "Launch"),
        ("Forbid", 0, "Launch"),
        ("Forbid", 1, "Skip"),
        ("Replace", 0, "Launch"),
        ("Replace", 1, "ReplaceThenLaunch"),
    ],
)
def test_concurrency_action(policy: Any, active: int, expected: str) -> None:
    assert concurrency_action(policy, active) == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("RESOURCE:MEMORY", True),
        ("RESOURCE:CPU", True),
        ("AGENT", True),
        ("SpotInterruption", True),
        ("TaskFailedToStart", True),
        ("EssentialContainerExited", False),
        ("ClusterNotFoundException", False),
        ("RESOURCE", False),
    ],
)
def test_default_retry_on(code: str, expected: bool) -> None:
    assert retryable(RetryPolicy(), code) is expected


@pytest.mark.parametrize(
    ("name", "policy", "attempt", "codes", "expected"),
    [
        ("no policy", None, 1, ["SpotInterruption"], None),
        ("first retry after backoff", RetryPolicy(max_attempts=3, backoff_seconds=10), 1, ["SpotInterruption"], (10, 2, 1)),
        ("backoff doubles", RetryPolicy(max_attempts=3, backoff_seconds=10), 2, ["AGENT", "AGENT"], (20, 3, 2)),
        ("attempts exhausted", RetryPolicy(max_attempts=3, backoff_seconds=10), 3, ["AGENT"], None),
        ("only retryable tasks are relaunched", RetryPolicy(), 1, ["SpotInterruption", "EssentialContainerExited"], (30, 2, 1)),
        ("nothing retryable", RetryPolicy(), 1, ["EssentialContainerExited"], None),
        ("exit codes when asked", RetryPolicy(retry_on=["EssentialContainerExited"], backoff_seconds=0), 1, ["EssentialContainerExited"], (0, 2, 1)),
        ("backoff capped at one hour", RetryPolicy(max_attempts=10, backoff_seconds=3600), 5, ["AGENT"], (3600, 6, 1)),
    ],
)  # fmt: skip
def test_plan_retry(
    name: str,
    policy: RetryPolicy | None,
    attempt: int,
    codes: list[str],
    expected: tuple[int, int, int] | None,
) -> None:
    plan = plan_retry(policy, attempt=attempt, failure_codes=codes, now=NOW)
    if expected is None:
        assert plan is None
    else:
        assert plan is not None
        assert ((plan.at - NOW) // timedelta(seconds=1), plan.attempt, plan.tasks) == expected


def record(n: int, outcome: str) -> dict[str, Any]:
    return {"scheduledTime": f"2026-11-22T05:{n:02d}:00Z", "outcome": outcome}


@pytest.mark.parametrize(
    ("name", "history", "new", "successes", "others", "expected"),
    [
        ("first record", [], record(1, "Succeeded"), 3, 1, [1]),
        ("successes trimmed to 3, oldest first", [record(i, "Succeeded") for i in range(1, 4)], record(4, "Succeeded"), 3, 1, [2, 3, 4]),
        ("one failure kept by default", [record(1, "Failed")], record(2, "Failed"), 3, 1, [2]),
        ("limits are separate", [record(1, "Succeeded"), record(2, "Failed")], record(3, "Succeeded"), 1, 1, [2, 3]),
        ("skipped, unknown and replaced count as others", [record(1, "Skipped"), record(2, "Unknown")], record(3, "Replaced"), 3, 2, [2, 3]),
        ("zero keeps none", [record(1, "Failed")], record(2, "Failed"), 3, 0, []),
    ],
)  # fmt: skip
def test_history_trimming(
    name: str,
    history: list[dict[str, Any]],
    new: dict[str, Any],
    successes: int,
    others: int,
    expected: list[int],
) -> None:
    kept = with_record(history, new, successes=successes, others=others)
    assert [int(r["scheduledTime"][14:16]) for r in kept] == expected
