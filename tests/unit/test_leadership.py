"""Leader election decisions (pure) and the graceful release of the Lease."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ecs_scheduler.core.leadership import LeaseRecord, lease_action, lease_body
from ecs_scheduler.runtime.election import LeaderElector

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def record(holder: str | None, duration: float = 15) -> LeaseRecord:
    return LeaseRecord(
        holder=holder, duration_seconds=duration, renew_time="t", transitions=3, resource_version="7"
    )


@pytest.mark.parametrize(
    ("lease", "observed_ago", "expected"),
    [
        (None, None, "Create"),
        (record("me"), 0, "Renew"),
        (record("other"), 5, "Wait"),
        (record("other"), 16, "TakeOver"),  # not renewed for a whole lease, as this process saw it
        (record(None), 0, "TakeOver"),  # released: taken at once
    ],
)  # fmt: skip
def test_lease_actions(lease: LeaseRecord | None, observed_ago: float | None, expected: str) -> None:
    observed = None if observed_ago is None else NOW - timedelta(seconds=observed_ago)
    assert lease_action(lease, me="me", observed_at=observed, now=NOW) == expected


def test_a_released_lease_has_no_holder_and_keeps_its_version() -> None:
    body = lease_body(record("me"), action="Release", me="me", duration_seconds=15, now=NOW, name="l")
    assert "holderIdentity" not in body["spec"] and body["spec"]["leaseDurationSeconds"] == 1
    assert body["spec"]["leaseTransitions"] == 3 and body["metadata"]["resourceVersion"] == "7"


class FakeLease:
    def __init__(self, holder: str | None) -> None:
        self.lease: dict[str, Any] = {"metadata": {"resourceVersion": "1"}, "spec": {"holderIdentity": holder,
                                       "leaseDurationSeconds": 15, "renewTime": "t"}}  # fmt: skip
        self.replaced: list[dict[str, Any]] = []

    async def read(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.lease

    async def create(self, namespace: str, body: dict[str, Any]) -> bool:
        self.lease = body
        return True

    async def replace(self, namespace: str, name: str, body: dict[str, Any]) -> bool:
        self.replaced.append(body)
        self.lease = body
        return True


class Clock:
    def now(self) -> datetime:
        return NOW


@pytest.mark.parametrize(
    ("holder", "led", "released"),
    [("me", True, True), ("other", True, False), ("me", False, False)],
)
def test_release_gives_up_only_a_lease_this_replica_holds(holder: str, led: bool, released: bool) -> None:
    api = FakeLease(holder)
    elector = LeaderElector(api, namespace="ns", name="l", identity="me", duration=15, retry=2, clock=Clock())
    elector._leading = led
    asyncio.run(elector.release())
    assert bool(api.replaced) is released
    if released:
        assert "holderIdentity" not in api.lease["spec"]
