"""The runtime of runs on demand, with its neighbours replaced: a launcher that records what it
is asked to start, a status writer that keeps the patches. Parallelism and order, the end of a
backfill, and a restart that goes on where the status says, relaunching with the same token."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from ecs_scheduler.core.plan import JobIdentity
from ecs_scheduler.core.status import iso_precise
from ecs_scheduler.core.validation import validate_spec
from ecs_scheduler.model.aws import AwsScope
from ecs_scheduler.model.config import OperatorConfig
from ecs_scheduler.model.job import JobKey
from ecs_scheduler.runtime.background import Background
from ecs_scheduler.runtime.jobs import JobState
from ecs_scheduler.runtime.metrics import Metrics
from ecs_scheduler.runtime.on_demand import OnDemand
from ecs_scheduler.runtime.runs import Run
from ecs_scheduler.runtime.status_sink import StatusSink

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
JOB = JobKey("team", "hourly")


def hours_ago(hours: int) -> datetime:
    return NOW - timedelta(hours=hours)


class Clock:
    def now(self) -> datetime:
        return NOW


class Launcher:
    """Starts a run for each call and keeps it in flight until the test ends it."""

    def __init__(self) -> None:
        self.started: list[tuple[datetime, str, str | None]] = []
        self.tracked: list[Run] = []

    async def start(self, state: JobState, instant: datetime, **kwargs: Any) -> Run:
        self.started.append((instant, kwargs["origin"], kwargs["run_now"]))
        run = Run(
            state.key, instant, "default", AwsScope(None), origin=kwargs["origin"], request=kwargs["request"]
        )
        self.tracked.append(run)
        return run


class Tracker:
    def __init__(self, launcher: Launcher) -> None:
        self._launcher = launcher

    def runs_of(self, key: JobKey) -> list[Run]:
        return list(self._launcher.tracked)


class Writer:
    def __init__(self) -> None:
        self.patches: list[dict[str, Any]] = []

    async def patch_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        self.patches.append(status)


class Objects:
    async def adopt_run(self, namespace: str, name: str, owner: dict[str, Any]) -> None: ...

    async def delete_run(self, namespace: str, name: str, uid: str) -> None: ...


class Ecs:
    async def log_configurations(self, **_: Any) -> None:
        return None


class Events:
    def __init__(self) -> None:
        self.recorded: list[tuple[str, str]] = []

    def record(self, identity: JobIdentity, type_: str, reason: str, message: str) -> None:
        self.recorded.append((reason, message))

    def forget(self, namespace: str, name: str) -> None: ...


def job_state(history: list[dict[str, Any]] | None = None) -> JobState:
    spec = {"taskDefinition": "etl:1", "schedule": "0 * * * *"}
    state = JobState(
        JobIdentity(JOB.namespace, JOB.name, "job-uid"),
        "f",
        1,
        validate_spec(spec, identity=str(JOB), now=NOW),
    )
    state.facts.history = history or []
    return state


def run_body(backfill: dict[str, Any], status: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "metadata": {"namespace": "team", "name": "outage", "uid": "0123456789abcdef", "creationTimestamp": "2026-11-28T11:59:00Z"},
        "spec": {"jobName": "hourly", "backfill": backfill},
        "status": status or {},
    }  # fmt: skip


Scenario = Callable[[OnDemand, Launcher, Writer, Events], Awaitable[None]]


def run(scenario: Scenario, state: JobState) -> None:
    async def main() -> None:
        launcher, writer, events = Launcher(), Writer(), Events()
        sink = StatusSink(writer, Metrics(), backlog_gauges=False)
        on_demand = OnDemand(
            config=OperatorConfig(), clock=Clock(), jobs={JOB: state}, planned=lambda _: None,
            launcher=launcher, tracker=Tracker(launcher), status=sink, objects=Objects(), ecs=Ecs(),  # type: ignore[arg-type]
            events=events, background=Background(), request_check=None,  # type: ignore[arg-type]
        )  # fmt: skip
        on_demand.active = True
        loop = asyncio.create_task(on_demand.run())
        try:
            await scenario(on_demand, launcher, writer, events)
        finally:
            loop.cancel()
            sink.cancel()

    asyncio.run(main())


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def end(
    on_demand: OnDemand, launcher: Launcher, state: JobState, instant: datetime, outcome: str = "Succeeded"
) -> None:
    (run_,) = [r for r in launcher.tracked if r.scheduled == instant]
    launcher.tracked.remove(run_)
    on_demand.concluded(state, run_, outcome, "")  # type: ignore[arg-type]


def test_a_backfill_runs_in_order_at_most_parallelism_at_once_and_ends() -> None:
    state = job_state()

    async def scenario(on_demand: OnDemand, launcher: Launcher, writer: Writer, events: Events) -> None:
        on_demand.observe(
            run_body({"from": iso_precise(hours_ago(4)), "to": iso_precise(hours_ago(1)), "parallelism": 2})
        )
        await settle()
        assert [i for i, _, _ in launcher.started] == [hours_ago(4), hours_ago(3)], "two at once, in order"
        assert all(origin == "Backfill" and token is None for _, origin, token in launcher.started)
        end(on_demand, launcher, state, hours_ago(3))
        await settle()
        assert [i for i, _, _ in launcher.started][2:] == [hours_ago(2)], "a slot freed: the next instant"
        for instant in (hours_ago(4), hours_ago(2)):
            end(on_demand, launcher, state, instant, "Failed" if instant == hours_ago(2) else "Succeeded")
        await settle()
        end(on_demand, launcher, state, hours_ago(1))
        await settle()
        await asyncio.sleep(0.05)
        last = writer.patches[-1]
        assert (last["phase"], last["succeeded"], last["failed"], last["total"]) == ("Failed", 3, 1, 4)
        assert [reason for reason, _ in events.recorded] == ["Planned", "Failed"]
        assert sum("planned" in patch for patch in writer.patches) == 1, "the plan is written once"

    run(scenario, state)


def test_instants_in_the_jobs_history_are_skipped_unless_forced() -> None:
    state = job_state([{"scheduledTime": iso_precise(hours_ago(2)), "outcome": "Succeeded"}])

    async def scenario(on_demand: OnDemand, launcher: Launcher, writer: Writer, _: Events) -> None:
        on_demand.observe(
            run_body({"from": iso_precise(hours_ago(3)), "to": iso_precise(hours_ago(1)), "parallelism": 5})
        )
        await settle()
        assert [i for i, _, _ in launcher.started] == [hours_ago(3), hours_ago(1)]

    run(scenario, state)

    async def forced(on_demand: OnDemand, launcher: Launcher, writer: Writer, _: Events) -> None:
        on_demand.observe(run_body({"from": iso_precise(hours_ago(3)), "to": iso_precise(hours_ago(1)), "parallelism": 5,
                                    "force": True}))  # fmt: skip
        await settle()
        assert [i for i, _, _ in launcher.started] == [hours_ago(3), hours_ago(2), hours_ago(1)]
        tokens = [token for _, _, token in launcher.started]
        assert len(set(tokens)) == 3 and all(t and t.startswith("outage.01234567@") for t in tokens)

    run(forced, job_state([{"scheduledTime": iso_precise(hours_ago(2)), "outcome": "Succeeded"}]))


def test_after_a_restart_an_instant_in_progress_that_no_run_stands_for_is_launched_again_then_the_rest() -> (
    None
):
    state = job_state()
    planned = [iso_precise(hours_ago(h)) for h in (4, 3, 2, 1)]
    status = {"phase": "Running", "planned": planned, "launched": 2, "total": 4, "succeeded": 1,
              "inProgress": [planned[1]], "instants": [{"scheduledTime": planned[0], "outcome": "Succeeded"}]}  # fmt: skip

    async def scenario(on_demand: OnDemand, launcher: Launcher, writer: Writer, _: Events) -> None:
        on_demand.observe(run_body({"from": planned[0], "to": planned[-1], "parallelism": 1}, status))
        await settle()
        assert [i for i, _, _ in launcher.started] == [hours_ago(3)], (
            "the one in progress, again (same token)"
        )
        end(on_demand, launcher, state, hours_ago(3))
        await settle()
        assert [i for i, _, _ in launcher.started][1:] == [hours_ago(2)], "then on from where it was"

    run(scenario, state)


def run_now_body(spec: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"namespace": "team", "name": "manual", "uid": "fedcba9876543210",
                         "creationTimestamp": "2026-11-28T11:59:00Z"}, "spec": {"jobName": "hourly", **spec}}  # fmt: skip


def test_a_runs_changes_are_checked_like_a_jobs_spec_and_refused_naming_the_field() -> None:
    state = job_state()
    too_much = {"container": "app", "environment": {f"V{i}": "x" * 4000 for i in range(3)}}

    async def scenario(on_demand: OnDemand, launcher: Launcher, writer: Writer, events: Events) -> None:
        on_demand.observe(run_now_body({"overrides": too_much}))
        await settle()
        await asyncio.sleep(0.05)
        assert launcher.started == []
        (condition,) = writer.patches[-1]["conditions"]
        assert (writer.patches[-1]["phase"], condition["reason"]) == ("Failed", "InvalidRun")
        assert (
            condition["message"].startswith("spec.overrides: is ")
            and "the limit is 8192" in condition["message"]
        )
        assert events.recorded[-1][0] == "InvalidRun"

    run(scenario, state)


def test_a_run_now_launches_once_with_a_token_of_its_own() -> None:
    state = job_state()

    async def scenario(on_demand: OnDemand, launcher: Launcher, writer: Writer, _: Events) -> None:
        on_demand.observe(
            run_now_body({"overrides": {"container": "app", "environment": {"DATE": "2026-11-28"}}})
        )
        await settle()
        ((instant, origin, token),) = launcher.started
        assert (instant, origin, token) == (
            datetime(2026, 11, 28, 11, 59, tzinfo=UTC),
            "RunNow",
            "manual.fedcba98",
        )
        on_demand.observe(
            run_now_body({"overrides": {"container": "app", "environment": {"DATE": "2026-11-28"}}})
        )
        await settle()
        assert len(launcher.started) == 1, "its own status writes come back as events: nothing more starts"

    run(scenario, state)


def test_a_standby_keeps_the_leaders_latest_progress_and_goes_on_from_it_when_it_takes_over() -> None:
    state = job_state()
    planned = [iso_precise(hours_ago(h)) for h in (3, 2, 1)]
    progress = {"phase": "Running", "planned": planned, "launched": 2, "total": 3, "succeeded": 2,
                "instants": [{"scheduledTime": p, "outcome": "Succeeded"} for p in planned[:2]]}  # fmt: skip

    async def scenario(on_demand: OnDemand, launcher: Launcher, writer: Writer, _: Events) -> None:
        on_demand.active = False
        backfill = {"from": planned[0], "to": planned[-1]}
        on_demand.observe(run_body(backfill))  # created: seen while standing by
        on_demand.observe(run_body(backfill, progress))  # the leader's progress, seen later
        on_demand.set_active(True)
        await settle()
        assert [i for i, _, _ in launcher.started] == [hours_ago(1)], "only what the leader had not done"

    run(scenario, state)
