"""The notifier against a fake sender: owed in status first, delivered, retried, abandoned, resumed."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ecs_scheduler.adapters.notify import DeliveryFailed, Outgoing
from ecs_scheduler.core.plan import JobIdentity
from ecs_scheduler.core.validation import validate_spec
from ecs_scheduler.model.aws import AwsScope
from ecs_scheduler.model.job import JobKey
from ecs_scheduler.model.notify import NotificationTarget
from ecs_scheduler.runtime.background import Background
from ecs_scheduler.runtime.jobs import JobState, Reporter
from ecs_scheduler.runtime.metrics import Metrics
from ecs_scheduler.runtime.notifier import Notifier
from ecs_scheduler.runtime.runs import Run, run_name
from ecs_scheduler.runtime.status_sink import StatusSink
from tests.unit.test_status_sink import Writer

TOPIC = "arn:aws:sns:us-east-1:123456789012:runs"
RECORD = {"scheduledTime": "2026-11-23T09:00:00.000Z", "origin": "Schedule", "attempt": 1,
          "outcome": "Failed", "tasks": 1, "reason": "container app exited with code 3"}  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.instant = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.instant


class Sender:
    def __init__(self, answers: list[Exception | None]) -> None:
        self.answers = answers
        self.sent: list[tuple[str, Outgoing]] = []

    async def send(self, target: NotificationTarget, *, scope: AwsScope, outgoing: Outgoing) -> None:
        self.sent.append((target.address, outgoing))
        answer = self.answers.pop(0) if self.answers else None
        if answer is not None:
            raise answer

    async def close(self) -> None:
        pass


class Events:
    def __init__(self) -> None:
        self.recorded: list[tuple[str, str, str]] = []

    def record(self, job: JobIdentity, type_: str, reason: str, message: str) -> None:
        self.recorded.append((type_, reason, message))


def job_state(outcomes: list[str]) -> JobState:
    spec = {
        "taskDefinition": "app",
        "schedule": "@hourly",
        "notifications": [{"sns": {"topicArn": TOPIC}, "outcomes": outcomes}],
    }
    state = JobState(JobIdentity("team-a", "nightly", "uid-1"), "fp", 1,
                     validate_spec(spec, identity="team-a/nightly", now=datetime(2026, 11, 23, tzinfo=UTC)))  # fmt: skip
    return state


Scenario = Callable[[Notifier, JobState, Sender, Writer, Events, Clock], Awaitable[None]]


def run(answers: list[Exception | None], scenario: Scenario, outcomes: list[str] | None = None) -> None:
    async def main() -> None:
        writer, clock, events, sender = Writer(), Clock(), Events(), Sender(answers)
        sink = StatusSink(writer, Metrics())  # type: ignore[arg-type]
        state = job_state(outcomes or ["Failed"])
        jobs = {JobKey("team-a", "nightly"): state}
        background = Background()
        notifier = Notifier(sender, reporter=Reporter(sink, events, clock), clock=clock,  # type: ignore[arg-type]
                            metrics=Metrics(), background=background, jobs=jobs)  # fmt: skip
        try:
            await scenario(notifier, state, sender, writer, events, clock)
        finally:
            background.cancel()
            sink.cancel()

    asyncio.run(main())


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0.01)


def test_an_outcome_nobody_wants_owes_nothing() -> None:
    async def scenario(notifier: Notifier, state: JobState, sender: Sender, *_: Any) -> None:
        assert notifier.owe(state, {**RECORD, "outcome": "Succeeded"}, run="r") == {}
        await settle()
        assert sender.sent == [] and state.facts.owed == []

    run([], scenario)


def test_owed_first_then_delivered_and_said_so_in_status() -> None:
    async def scenario(notifier: Notifier, state: JobState, sender: Sender, writer: Writer, *_: Any) -> None:
        patch = notifier.owe(state, RECORD, run=RECORD["scheduledTime"])
        (owed,) = patch["owedNotifications"]
        assert (owed["type"], owed["target"], owed["attempts"]) == ("sns", TOPIC, 0)
        await settle()
        assert [address for address, _ in sender.sent] == [TOPIC]
        assert state.facts.owed == []
        (delivered,) = state.facts.deliveries
        assert (delivered["outcome"], delivered["eventId"]) == ("Delivered", owed["eventId"])
        assert writer.patches[-1][1]["owedNotifications"] == []

    run([], scenario)


def test_a_failed_attempt_waits_its_backoff_then_goes_with_the_same_id() -> None:
    async def scenario(notifier: Notifier, state: JobState, sender: Sender, writer: Writer, events: Events,
                       clock: Clock) -> None:  # fmt: skip
        notifier.owe(state, RECORD, run=RECORD["scheduledTime"])
        await settle()
        (owed,) = state.facts.owed
        assert owed["attempts"] == 1 and state.facts.deliveries[0]["outcome"] == "Failed"
        assert "Throttled" in state.facts.deliveries[0]["error"]
        clock.instant += timedelta(seconds=5)  # the first backoff
        notifier.wake(state.key)
        await settle()
        assert [o.event_id for _, o in sender.sent] == [owed["eventId"]] * 2
        assert state.facts.owed == [] and state.facts.deliveries[0]["outcome"] == "Delivered"

    run([DeliveryFailed("Throttled: slow down")], scenario)


def test_a_refused_delivery_is_abandoned_with_a_warning() -> None:
    async def scenario(notifier: Notifier, state: JobState, sender: Sender, writer: Writer, events: Events,
                       *_: Any) -> None:  # fmt: skip
        notifier.owe(state, RECORD, run=RECORD["scheduledTime"])
        await settle()
        assert state.facts.owed == [] and state.facts.deliveries[0]["outcome"] == "Abandoned"
        ((type_, reason, message),) = events.recorded
        assert (type_, reason) == ("Warning", "NotificationFailed") and "refused" in message

    run([DeliveryFailed("refused: internal address", final=True)], scenario)


def test_what_status_says_is_owed_is_sent_after_a_restart() -> None:
    async def scenario(notifier: Notifier, state: JobState, sender: Sender, *_: Any) -> None:
        owed = {"type": "sns", "target": TOPIC, "eventId": "e-1", "payload": "{}", "attempts": 2,
                "nextAttempt": "2026-11-23T09:59:00.000Z"}  # fmt: skip
        notifier.resume(state, {"owedNotifications": [owed, {"unreadable": True}]})
        await settle()
        assert [(address, o.event_id) for address, o in sender.sent] == [(TOPIC, "e-1")]
        assert state.facts.owed == []

    run([], scenario)


@pytest.mark.parametrize(
    ("origin", "run_now", "name"),
    [("Schedule", None, "2026-11-23T09:00:00.000Z"), ("RunNow", "deploy-42", "run-now:deploy-42")],
)
def test_a_run_is_named_by_its_instant_or_its_run_now_value(
    origin: Any, run_now: str | None, name: str
) -> None:
    run = Run(JobKey("team-a", "nightly"), datetime(2026, 11, 23, 9, tzinfo=UTC), "default", AwsScope(None),
              origin=origin, run_now=run_now)  # fmt: skip
    assert run_name(run) == name
