"""Event correlation: repeated Normal events become a count on one Event; Warnings never do."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from ecs_scheduler.core.buckets import TokenBucket
from ecs_scheduler.core.events import Correlator, Post, Series, series_patch
from ecs_scheduler.core.plan import JobIdentity

START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
REFRESH = 300.0
JOB = JobIdentity("team", "nightly", "uid-1")
OTHER = JobIdentity("team", "hourly", "uid-2")


def minutes(n: float) -> datetime:
    return START + timedelta(minutes=n)


@dataclass(frozen=True)
class Occurrence:
    at: datetime
    type_: str = "Normal"
    reason: str = "Launched"
    job: JobIdentity = JOB


def correlator(rate: float = 1000, burst: int = 1000) -> Correlator:
    return Correlator(refresh=REFRESH, budget=TokenBucket(rate=rate, burst=burst), component="ecs-scheduler")


def replay(occurrences: list[Occurrence], events: Correlator | None = None) -> tuple[Correlator, list[str]]:
    correlator = globals()["correlator"]() if events is None else events
    created = []
    for number, event in enumerate(occurrences):
        post = correlator.occurred(
            event.job,
            event.type_,
            event.reason,
            f"message {number}",
            now=event.at,
            event_name=f"e{number}",  # type: ignore[arg-type]
        )
        if post is not None:
            created.append(post.body["metadata"]["name"])
    return correlator, created


@pytest.mark.parametrize(
    ("occurrences", "created"),
    [
        pytest.param([Occurrence(minutes(0))], ["e0"], id="first occurrence creates"),
        pytest.param([Occurrence(minutes(i)) for i in range(5)], ["e0"], id="repeats are counted"),
        pytest.param(
            [Occurrence(minutes(0)), Occurrence(minutes(1), reason="RunSucceeded")],
            ["e0", "e1"],
            id="per reason",
        ),
        pytest.param([Occurrence(minutes(0)), Occurrence(minutes(1), job=OTHER)], ["e0", "e1"], id="per job"),
        pytest.param(
            [Occurrence(minutes(0), "Warning", "RunFailed"), Occurrence(minutes(1), "Warning", "RunFailed")],
            ["e0", "e1"],
            id="warnings are never aggregated",
        ),
    ],
)
def test_what_is_created(occurrences: list[Occurrence], created: list[str]) -> None:
    assert replay(occurrences)[1] == created


def test_counts_are_written_at_most_every_refresh() -> None:
    correlator, _ = replay([Occurrence(minutes(i)) for i in range(7)])  # 08:00 .. 08:06
    assert correlator.due(minutes(4)) == [], "the first count waits for the refresh period"
    (series,) = correlator.due(minutes(6))
    assert isinstance(series, Series)
    assert series_patch(series) == {
        "count": 7,
        "lastTimestamp": "2026-11-23T08:06:00Z",
        "message": "message 6",
    }
    correlator.written(series, 7, minutes(6))
    assert correlator.due(minutes(8)) == [], "written: nothing new until more happen"


def test_an_idle_series_is_closed_and_the_next_occurrence_starts_a_new_event() -> None:
    correlator, _ = replay([Occurrence(minutes(0)), Occurrence(minutes(1))])
    (series,) = correlator.due(minutes(5))
    assert isinstance(series, Series)
    correlator.written(series, series.count, minutes(5))
    assert correlator.due(minutes(11)) == [] and len(correlator) == 0, "idle for a refresh period: closed"
    post = correlator.occurred(JOB, "Normal", "Launched", "again", now=minutes(12), event_name="fresh")
    assert post is not None and post.body["metadata"]["name"] == "fresh"


def test_an_expired_event_starts_a_new_series() -> None:
    correlator, _ = replay([Occurrence(minutes(0)), Occurrence(minutes(1))])
    (series,) = correlator.due(minutes(5))
    assert isinstance(series, Series)
    correlator.lost(series)
    post = correlator.occurred(JOB, "Normal", "Launched", "again", now=minutes(6), event_name="fresh")
    assert post is not None


def test_a_deleted_job_leaves_no_series() -> None:
    correlator, _ = replay(
        [Occurrence(minutes(0)), Occurrence(minutes(0), job=OTHER), Occurrence(minutes(1))]
    )
    correlator.forget("team", "nightly")
    assert correlator.all_unwritten(minutes(2)) == []
    assert len(correlator) == 1


def test_event_body_is_a_core_v1_event_with_a_bounded_message() -> None:
    post = correlator().occurred(JOB, "Warning", "RunFailed", "x" * 5000, now=START, event_name="nightly.abc")
    assert post is not None and post.namespace == "team"
    body = post.body
    assert body["involvedObject"] == {
        "apiVersion": "ecs-scheduler.dev/v1alpha1", "kind": "ScheduledEcsJob", "namespace": "team",
        "name": "nightly", "uid": "uid-1",
    }  # fmt: skip
    assert (body["type"], body["reason"], body["count"]) == ("Warning", "RunFailed", 1)
    assert len(body["message"]) == 1024
    assert body["firstTimestamp"] == body["lastTimestamp"] == "2026-11-23T08:00:00Z"


def test_over_budget_a_new_series_waits_counting_and_is_created_with_its_first_time() -> None:
    events = correlator(rate=1 / 60, burst=1)  # one write a minute
    _, created = replay(
        [Occurrence(minutes(0)), Occurrence(minutes(0), job=OTHER), Occurrence(minutes(1), job=OTHER)], events
    )
    assert created == ["e0"], "the second job's series waits for budget"
    assert events.due(minutes(0.5)) == []
    (post,) = events.due(minutes(1.5))
    assert isinstance(post, Post)
    body = post.body
    assert (body["involvedObject"]["name"], body["count"]) == ("hourly", 2)
    assert (body["firstTimestamp"], body["lastTimestamp"]) == ("2026-11-23T08:00:00Z", "2026-11-23T08:01:00Z")


def test_over_budget_warnings_wait_first_in_line_and_none_is_dropped() -> None:
    events = correlator(rate=1 / 60, burst=1)
    _, created = replay([
        Occurrence(minutes(0), "Warning", "RunFailed"), Occurrence(minutes(0), job=OTHER),
        Occurrence(minutes(0), "Warning", "RunFailed"), Occurrence(minutes(0), "Warning", "LaunchFailed"),
    ], events)  # fmt: skip
    assert created == ["e0"]
    order = [w.body["reason"] for m in (1, 2, 3) for w in events.due(minutes(m)) if isinstance(w, Post)]
    assert order == ["RunFailed", "LaunchFailed", "Launched"], "Warnings first, in order, then the new series"


def test_shutdown_writes_everything_whatever_the_budget() -> None:
    events = correlator(rate=1 / 60, burst=1)
    replay(
        [
            Occurrence(minutes(0)),
            Occurrence(minutes(0), job=OTHER),
            Occurrence(minutes(0), "Warning", "RunFailed"),
        ],
        events,
    )
    assert len(events.all_unwritten(minutes(0))) == 2


@pytest.mark.parametrize(
    ("takes", "expected"),
    [
        pytest.param([0, 0, 0], [True, True, False], id="burst of two, then empty"),
        pytest.param([0, 0, 0.5], [True, True, True], id="refilled at two a second"),
        pytest.param([0, 0, 0.25], [True, True, False], id="half a token is not one"),
        pytest.param([0, 10, 10, 10], [True, True, True, False], id="never more than the burst"),
    ],
)
def test_token_bucket(takes: list[float], expected: list[bool]) -> None:
    bucket = TokenBucket(rate=2, burst=2, updated=0)
    assert [bucket.try_take(at) for at in takes] == expected


def test_token_bucket_wait_and_rate_change() -> None:
    bucket = TokenBucket(rate=2, burst=2, updated=0)
    bucket.try_take(0, 2)
    assert bucket.wait(0) == 0.5
    bucket.set_rate(1, 0.25)  # half a token earned at the old rate is kept
    assert bucket.wait(0.25) == 0.5


@pytest.mark.parametrize("type_", ["Normal", "Warning"])
def test_an_event_about_a_run_on_demand_names_the_run_not_a_job(type_: str) -> None:
    run = JobIdentity("team", "nightly-manual", "uid-9", kind="ScheduledEcsJobRun")
    post = correlator().occurred(run, type_, "Completed", "done", now=START, event_name="e1")  # type: ignore[arg-type]
    assert post is not None
    involved = post.body["involvedObject"]
    assert (involved["kind"], involved["name"], involved["uid"]) == (
        "ScheduledEcsJobRun",
        "nightly-manual",
        "uid-9",
    )
