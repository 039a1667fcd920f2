"""PacedEcs at the EcsApi boundary: within the limit calls go at once; over it they queue, go
earliest first and namespaces taking turns, at the limit's pace; past a deadline they are not
sent; a throttle slows the lane down. A fake ECS and a fake clock: no sleeping on real time."""

import asyncio
import dataclasses
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ecs_scheduler.model.aws import AssumedRole, AwsScope
from ecs_scheduler.model.config import ECS_RATE_LIMITS, RateLimit
from ecs_scheduler.model.launch import RunTaskCall, RunTaskOutcome
from ecs_scheduler.runtime.metrics import Metrics
from ecs_scheduler.runtime.pacing import MISSED, PacedEcs

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Recording:
    """An EcsApi that answers at once and notes when each RunTask was sent (fake seconds)."""

    def __init__(self, ticks: "Ticks") -> None:
        self.sent: list[tuple[float, str]] = []
        self._ticks = ticks

    def run_task(self, call: RunTaskCall) -> "asyncio.Future[RunTaskOutcome]":
        # Sent when called, like Boto3Ecs (which hands the call to its pool at once).
        self.sent.append((self._ticks(), call.client_token))
        answered: asyncio.Future[RunTaskOutcome] = asyncio.get_running_loop().create_future()
        answered.set_result(
            RunTaskOutcome(task_arns=(f"arn:{call.client_token}",), task_statuses=("PROVISIONING",))
        )
        return answered

    async def describe_tasks(self, **_: Any) -> list[dict[str, Any]]:
        self.sent.append((self._ticks(), "describe"))
        return []

    async def stop_task(self, **_: Any) -> None: ...

    async def list_tasks(self, **_: Any) -> list[str]:
        return []

    async def essential_containers(self, **_: Any) -> frozenset[str] | None:
        return None


class Ticks:
    """Monotonic seconds that advance only when the test sleeps (asyncio.sleep is patched)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Clock:
    def __init__(self, ticks: Ticks) -> None:
        self._ticks = ticks

    def now(self) -> datetime:
        return T0 + timedelta(seconds=self._ticks.now)


def call(token: str, namespace: str = "a", at: float = 0.0, deadline: float | None = None) -> RunTaskCall:
    return RunTaskCall(
        AwsScope("us-east-1"),
        {"cluster": "c", "taskDefinition": "t", "count": 1, "clientToken": token},
        namespace=namespace,
        scheduled=T0 + timedelta(seconds=at),
        deadline=None if deadline is None else T0 + timedelta(seconds=deadline),
    )


def paced(rate: float, burst: float, monkeypatch: Any) -> tuple[PacedEcs, Recording, Ticks, Metrics]:
    ticks = Ticks()
    real_sleep = asyncio.sleep

    async def sleep(seconds: float) -> None:
        ticks.now += seconds
        await real_sleep(0)

    monkeypatch.setattr("ecs_scheduler.runtime.pacing.asyncio.sleep", sleep)
    inner, metrics = Recording(ticks), Metrics()
    limits = {**ECS_RATE_LIMITS, "RunTask": RateLimit(rate, burst), "DescribeTasks": RateLimit(rate, burst)}
    # No margin here: the exact pace is easier to read (test_pacing.py covers the margin).
    ecs = PacedEcs(inner, limits=limits, clock=Clock(ticks), metrics=metrics, ticks=ticks, margin=0)
    return ecs, inner, ticks, metrics


def test_within_the_burst_every_call_goes_at_once(monkeypatch: Any) -> None:
    ecs, inner, _, _ = paced(2, 5, monkeypatch)

    async def scenario() -> list[RunTaskOutcome]:
        return list(await asyncio.gather(*(ecs.run_task(call(f"t{i}")) for i in range(5))))

    outcomes = asyncio.run(scenario())
    assert [at for at, _ in inner.sent] == [0.0] * 5
    assert all(o.queued_seconds == 0 for o in outcomes)


def test_over_the_burst_calls_queue_and_go_at_the_rate_with_their_wait(monkeypatch: Any) -> None:
    ecs, inner, _, metrics = paced(2, 5, monkeypatch)

    async def scenario() -> list[RunTaskOutcome]:
        return list(await asyncio.gather(*(ecs.run_task(call(f"t{i}")) for i in range(9))))

    outcomes = asyncio.run(scenario())
    times = [at for at, _ in inner.sent]
    assert times[:5] == [0.0] * 5
    assert times[5:] == [0.5, 1.0, 1.5, 2.0]
    assert [o.queued_seconds for o in outcomes[5:]] == [0.5, 1.0, 1.5, 2.0]
    assert metrics.launch_wait._sum.get() == 5.0
    assert metrics.launch_queue._value.get() == 0


def test_queued_calls_take_turns_by_namespace_earliest_instant_first_within(monkeypatch: Any) -> None:
    ecs, inner, _, _ = paced(1, 1, monkeypatch)
    calls = [call("first")] + [call(f"bulk-{i}", "bulk", at=0) for i in range(3)]
    calls += [call("lone", "lone", at=0), call("earlier", "bulk", at=-5)]

    async def scenario() -> None:
        await asyncio.gather(*(ecs.run_task(c) for c in calls))

    asyncio.run(scenario())
    # bulk's earliest launch, then lone's turn (its clock is as far behind), then bulk's backlog
    assert [token for _, token in inner.sent] == ["first", "earlier", "lone", "bulk-0", "bulk-1", "bulk-2"]


def test_a_call_whose_turn_comes_past_its_deadline_is_not_sent(monkeypatch: Any) -> None:
    ecs, inner, _, _ = paced(1, 1, monkeypatch)
    calls = [call("t0", deadline=1), call("t1", deadline=1), call("t2", deadline=1), call("t3")]

    async def scenario() -> list[RunTaskOutcome]:
        return list(await asyncio.gather(*(ecs.run_task(c) for c in calls)))

    outcomes = asyncio.run(scenario())
    assert [token for _, token in inner.sent] == ["t0", "t1", "t3"]
    (missed,) = outcomes[2].failures
    assert missed.reason == MISSED and not missed.uncertain
    assert "startingDeadlineSeconds (1s)" in missed.detail and "queued 2 s" in missed.detail
    assert outcomes[3].queued_seconds == 2.0  # the missed one did not spend a token


def test_a_throttle_from_ecs_halves_the_pace_of_that_lane(monkeypatch: Any) -> None:
    ecs, inner, _, metrics = paced(2, 1, monkeypatch)

    async def scenario() -> None:
        await ecs.run_task(call("t0"))
        ecs.throttled("RunTask", AwsScope("us-east-1"))  # as botocore's hook reports it, from a pool thread
        await asyncio.sleep(0)
        await asyncio.gather(*(ecs.run_task(call(f"t{i}")) for i in range(1, 4)))

    asyncio.run(scenario())
    gaps = [b - a for (a, _), (b, _) in zip(inner.sent[1:], inner.sent[2:], strict=False)]
    assert all(gap >= 0.8 for gap in gaps), inner.sent  # about 1 per second (climbing back), not 2
    assert metrics.throttled.labels("RunTask")._value.get() == 1
    assert metrics.paced_rate.labels("RunTask")._value.get() == 1.0


def test_other_apis_wait_for_a_token_of_their_own(monkeypatch: Any) -> None:
    ecs, inner, _, _ = paced(2, 1, monkeypatch)

    async def scenario() -> None:
        await ecs.run_task(call("t0"))  # RunTask's bucket is not DescribeTasks'
        for _ in range(3):
            await ecs.describe_tasks(cluster="c", scope=AwsScope("us-east-1"), arns=["a"])

    asyncio.run(scenario())
    assert inner.sent == [(0.0, "t0"), (0.0, "describe"), (0.5, "describe"), (1.0, "describe")]


def role(account: str, name: str) -> AssumedRole:
    return AssumedRole(f"arn:aws:iam::{account}:role/{name}", "ecs-scheduler-team")


@pytest.mark.parametrize(
    ("name", "scopes", "sent_at"),
    [
        ("one account, two roles: one bucket", [AwsScope("us-east-1", role("222222222222", "a")),
                                                 AwsScope("us-east-1", role("222222222222", "b"))], [0.0, 0.5]),
        ("two accounts: a bucket each", [AwsScope("us-east-1", role("222222222222", "a")),
                                         AwsScope("us-east-1", role("333333333333", "a"))], [0.0, 0.0]),
        ("the operator's own and a role's account", [AwsScope("us-east-1"),
                                                      AwsScope("us-east-1", role("222222222222", "a"))], [0.0, 0.0]),
        ("one account, two regions", [AwsScope("us-east-1", role("222222222222", "a")),
                                      AwsScope("eu-west-1", role("222222222222", "a"))], [0.0, 0.0]),
    ],
)  # fmt: skip
def test_lanes_are_per_account_and_region(
    name: str, scopes: list[AwsScope], sent_at: list[float], monkeypatch: Any
) -> None:
    ecs, inner, _, _ = paced(2, 1, monkeypatch)

    async def scenario() -> None:
        await asyncio.gather(
            *(ecs.run_task(dataclasses.replace(call(f"t{i}"), scope=s)) for i, s in enumerate(scopes))
        )

    asyncio.run(scenario())
    assert [at for at, _ in inner.sent] == sent_at, name


def behind(token: str, at: float = -3600.0) -> RunTaskCall:
    return dataclasses.replace(call(token, "backfill", at=at), behind=True)


def test_a_backfill_goes_only_with_budget_no_scheduled_call_needs(monkeypatch: Any) -> None:
    ecs, inner, _ticks, _ = paced(2, 4, monkeypatch)

    async def scenario() -> None:
        # The backfill's calls come first, yet the scheduled burst gets the whole bucket.
        backfill = [ecs.run_task(behind(f"b{i}")) for i in range(3)]
        await asyncio.sleep(0)
        burst = [ecs.run_task(call(f"s{i}")) for i in range(6)]
        await asyncio.gather(*burst, *backfill)

    asyncio.run(scenario())
    order = [token for _, token in inner.sent]
    assert order[0] == "b0", "a full bucket spares one token: it would have overflowed"
    assert order[1:7] == [f"s{i}" for i in range(6)], "then every scheduled call, queued ones too"
    assert order[7:] == ["b1", "b2"], "the rest of the backfill waits until the bucket is full again"
    sent = {token: at for at, token in inner.sent}
    assert sent["s3"] == pytest.approx(0.5), (
        "the burst found the bucket one token short: one call waits 1/rate"
    )
    assert sent["b1"] >= sent["s5"] + 2.0 - 1e-9, "all four tokens refilled first (rate 2/s)"


def test_a_backfill_alone_runs_at_the_full_rate_and_never_misses(monkeypatch: Any) -> None:
    ecs, inner, _, _ = paced(2, 4, monkeypatch)

    async def scenario() -> list[RunTaskOutcome]:
        return list(await asyncio.gather(*(ecs.run_task(behind(f"b{i}", at=-86400)) for i in range(8))))

    outcomes = asyncio.run(scenario())
    assert all(not o.failures for o in outcomes), "a backfill's instants are past: no deadline applies"
    times = [at for at, _ in inner.sent]
    assert times[0] == 0.0, "a full bucket spares a token at once"
    gaps = [round(b - a, 2) for a, b in itertools.pairwise(times)]
    assert all(gap <= 0.55 for gap in gaps), f"then one per refilled token (0.5 s at 2/s): {gaps}"
