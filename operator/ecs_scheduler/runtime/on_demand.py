"""Runs on demand (ScheduledEcsJobRun): a run now, or a backfill of past instants, launched
through the same path as scheduled fires (tenant guard, pacing, concurrency policy, retries),
with their own status, Events, owner and time to live.

What a restart needs is in the run's status: the instants it plans to run (written once), how
many of them were launched, and those in progress. An instant in progress that the job's status
does not show as active was not launched for sure: it is launched again with the same
clientToken, so ECS answers a repeat with the tasks it started the first time.
"""

import heapq
import logging
from collections.abc import Callable, Coroutine, Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from ecs_scheduler.adapters.ecs import EcsApi
from ecs_scheduler.adapters.kube import KubeError, ObjectGone, RunObjects
from ecs_scheduler.core.errors import SpecError
from ecs_scheduler.core.logs import log_locations
from ecs_scheduler.core.on_demand import already_run, backfill_instants, run_spec, run_token_name
from ecs_scheduler.core.requests import RequestCheck
from ecs_scheduler.core.status import iso_precise, parse_instant, ready_of
from ecs_scheduler.core.verdict import Judge
from ecs_scheduler.model import names
from ecs_scheduler.model.config import OperatorConfig
from ecs_scheduler.model.job import JobKey
from ecs_scheduler.model.run_request import DEFAULT_TTL_SECONDS, ScheduledEcsJobRunSpec
from ecs_scheduler.model.spec import ScheduledEcsJobSpec
from ecs_scheduler.model.status import RunOrigin, RunOutcome
from ecs_scheduler.runtime.alarm import Alarm
from ecs_scheduler.runtime.background import Background
from ecs_scheduler.runtime.clock import Clock
from ecs_scheduler.runtime.events import EventRecorder
from ecs_scheduler.runtime.jobs import JobState
from ecs_scheduler.runtime.launching import Launcher
from ecs_scheduler.runtime.run_request import (
    Condition,
    Request,
    keep,
    restore,
    status_patch,
    why_not_launched,
)
from ecs_scheduler.runtime.runs import Run
from ecs_scheduler.runtime.status_sink import StatusSink
from ecs_scheduler.runtime.tracker import Tracker

logger = logging.getLogger(__name__)

WAITING_RECHECK = 2.0
"""Seconds between looks at runs that wait for their job (not created yet, or invalid)."""


class OnDemand:
    def __init__(
        self,
        *,
        config: OperatorConfig,
        clock: Clock,
        jobs: Mapping[JobKey, JobState],
        planned: Callable[[JobKey], datetime | None],
        launcher: Launcher,
        tracker: Tracker,
        status: StatusSink,
        objects: RunObjects,
        ecs: EcsApi,
        events: EventRecorder,
        background: Background,
        request_check: RequestCheck | None,
    ) -> None:
        self._config = config
        self._clock = clock
        self._jobs = jobs
        self._planned = planned
        self._launcher = launcher
        self._tracker = tracker
        self._status = status
        self._objects = objects
        self._ecs = ecs
        self._events = events
        self._background = background
        self._judge = Judge.of_operator(config, request_check)
        self._requests: dict[JobKey, Request] = {}
        self._expiries: list[tuple[datetime, JobKey, str]] = []
        self._alarm = Alarm()
        self.active = False

    def set_active(self, active: bool) -> None:
        """Leading (launch and write) or standing by (only keep the leader's latest progress)."""
        self.active = active
        self._alarm.ring()

    # -- Fed by the watch --------------------------------------------------------------

    def observe(self, body: Mapping[str, Any]) -> None:
        metadata = body["metadata"]
        key, uid = JobKey(metadata["namespace"], metadata["name"]), str(metadata.get("uid", ""))
        known = self._requests.get(key)
        if known is not None and known.uid == uid and self.active:
            return  # a run's spec cannot change: later events are this process's own status writes
        # Standing by, every event is the leader's progress: keep the latest, so that taking over
        # goes on from what the leader last wrote (not from the run's creation).
        created = parse_instant(metadata.get("creationTimestamp")) or self._clock.now()
        owned = any(ref.get("kind") == names.KIND for ref in metadata.get("ownerReferences") or [])
        try:
            spec: ScheduledEcsJobRunSpec | None = ScheduledEcsJobRunSpec.model_validate(
                body.get("spec") or {}
            )
        except ValidationError as error:
            spec = None
            detail = error.errors(include_url=False)[0]
            where = ".".join(str(part) for part in detail["loc"])
            problem = SpecError(
                f"spec.{where}" if where else "spec", str(detail["msg"]).removeprefix("Value error, ")
            )
        request = self._requests[key] = Request(key, uid, spec, created, owned)
        restore(request, body.get("status") or {})
        if spec is None:
            if not request.finished:
                self._refuse(request, problem)
            return
        if request.finished:
            self._expire_later(request)
        self._alarm.ring()

    def forget(self, namespace: str, name: str) -> None:
        """Deleted: nothing more is launched for it (tasks already started run to their end,
        and are recorded in the job's history)."""
        key = JobKey(namespace, name)
        if self._requests.pop(key, None) is not None:
            self._status.forget(key)
            self._events.forget(namespace, name)

    # -- Called by the conclusion of runs and by retries -------------------------------------

    def concluded(self, state: JobState, run: Run, outcome: RunOutcome, reason: str) -> None:
        if run.request is None:
            return
        request = self._requests.get(JobKey(run.key.namespace, run.request))
        if request is None or run.scheduled not in request.in_progress:
            return
        entry = {"scheduledTime": iso_precise(run.scheduled), "outcome": outcome, "reason": reason,
                 "tasks": run.tasks_status(), "logs": request.logs.pop(run.scheduled, [])}  # fmt: skip
        self._instant_ended(request, run.scheduled, entry)

    def spec_for(self, state: JobState, run: Run) -> ScheduledEcsJobSpec | None:
        """The spec a retry of a run on demand launches with: the run's changes again."""
        if run.request is None or state.job is None:
            return None
        request = self._requests.get(JobKey(run.key.namespace, run.request))
        if request is None or request.spec is None:
            return None
        try:
            return run_spec(state.job.spec, request.spec)
        except SpecError:
            return None

    # -- The loop ------------------------------------------------------------------------

    async def run(self) -> None:
        while True:
            self._alarm.reset()
            waiting = False
            if self.active:
                for request in list(self._requests.values()):
                    if self._requests.get(request.key) is request and not request.finished:
                        waiting |= self._advance(request)
                self._delete_expired()
            timeout = WAITING_RECHECK if waiting or not self.active else None
            if self._expiries:
                until = (self._expiries[0][0] - self._clock.now()).total_seconds()
                timeout = max(0.0, until) if timeout is None else min(timeout, max(0.0, until))
            await self._alarm.sleep(timeout)

    def _advance(self, request: Request) -> bool:
        """Launch what is due for one run; True when it waits for its job."""
        assert request.spec is not None
        state = self._jobs.get(request.job)
        if state is None or state.job is None:
            why = (
                f"job {request.spec.job_name!r} does not exist"
                if state is None
                else f"job {request.spec.job_name!r} is not valid: {ready_of(state.conditions).get('message', '')}"
            )
            self._wait(request, why)
            return True
        if not request.owned:
            request.owned = True
            self._background.spawn(self._adopt(request, state), name=f"adopt:{request.key}")
        try:
            spec = self._checked_spec(request, state)
            if request.planned is None:
                self._plan(request, state)
        except SpecError as error:
            self._refuse(request, error)
            return False
        assert request.planned is not None
        self._resume_unseen(request, state, spec)
        limit = request.spec.backfill.parallelism if request.spec.backfill else 1
        while request.launched < len(request.planned) and len(request.in_progress) < limit:
            instant = request.planned[request.launched]
            request.launched += 1
            request.in_progress.add(instant)
            self._launch(request, state, spec, instant)
        if not request.in_progress and request.launched >= len(request.planned):
            self._finish(request)
        return False

    def _checked_spec(self, request: Request, state: JobState) -> ScheduledEcsJobSpec:
        """The job's spec with this run's changes, checked like a job's (tenant guard included)."""
        assert request.spec is not None and state.job is not None
        spec = run_spec(state.job.spec, request.spec)
        if spec is state.job.spec:
            return spec
        raw = spec.model_dump(mode="json", by_alias=True, exclude_none=True)
        verdict = self._judge(raw, namespace=state.key.namespace, name=state.key.name, now=self._clock.now())
        if verdict.error is not None:
            raise verdict.error
        return spec

    def _plan(self, request: Request, state: JobState) -> None:
        """Which instants to run, once: written into the status, so a restart runs the same."""
        assert request.spec is not None and state.job is not None
        backfill = request.spec.backfill
        if backfill is None:
            instants = [request.created]
            skipped: set[datetime] = set()
        else:
            instants = backfill_instants(state.job.schedule, backfill)
            known = [parse_instant(e.get("scheduledTime")) for e in state.facts.history]
            known += [run.scheduled for run in self._tracker.runs_of(state.key)]
            skipped = set() if backfill.force else already_run(instants, [k for k in known if k is not None])
        request.planned = [instant for instant in instants if instant not in skipped]
        request.total, request.skipped = len(instants), len(skipped)
        request.phase = "Running"
        message = (
            f"{len(request.planned)} of {len(instants)} instants to run"
            + (f" ({len(skipped)} already in the job's history: skipped)" if skipped else "")
            if backfill is not None
            else f"one run of job {request.spec.job_name!r}"
        )
        self._events.record(request.identity, "Normal", "Planned", message)
        self._write(request, planned=True)

    def _resume_unseen(self, request: Request, state: JobState, spec: ScheduledEcsJobSpec) -> None:
        """After a restart: an instant in progress that no tracked run of the job stands for
        either ended meanwhile (the job's history says how) or was not launched for sure: it is
        launched again, with the same clientToken."""
        name = request.key.name
        tracked = {run.scheduled for run in self._tracker.runs_of(state.key) if run.request == name}
        for instant in sorted(request.in_progress - tracked - request.launching):
            recorded = [e for e in state.facts.history
                        if e.get("request") == name and e.get("scheduledTime") == iso_precise(instant)]  # fmt: skip
            if recorded:
                entry = {"scheduledTime": iso_precise(instant), "outcome": recorded[-1].get("outcome", "Unknown"),
                         "reason": str(recorded[-1].get("reason", ""))}  # fmt: skip
                self._instant_ended(request, instant, entry)
            else:
                self._launch(request, state, spec, instant)

    def _launch(
        self, request: Request, state: JobState, spec: ScheduledEcsJobSpec, instant: datetime
    ) -> None:
        assert request.spec is not None
        backfill = request.spec.backfill
        token = run_token_name(request.key.name, request.uid)
        origin: RunOrigin
        run_now: str | None
        if backfill is None:
            origin, run_now = "RunNow", token
        else:
            # The instant's own clientToken (a repeat, or an instant the schedule already ran,
            # gets ECS's answer from then); forced: one of this run, so ECS starts it again.
            origin, run_now = "Backfill", (f"{token}@{iso_precise(instant)}" if backfill.force else None)
        if request.started is None:
            request.started = self._clock.now()
        request.launching.add(instant)
        self._write(request)
        started = self._launcher.start(state, instant, next_run=self._planned(state.key), origin=origin,
                                       run_now=run_now, spec=spec, request=request.key.name)  # fmt: skip
        self._background.spawn(
            self._launched(request, state, instant, started),
            name=f"run:{request.key}",
            job=state.key,
            stage="launching",
        )

    async def _launched(
        self, request: Request, state: JobState, instant: datetime, started: Coroutine[Any, Any, Run | None]
    ) -> None:
        try:
            run = await started
        finally:
            request.launching.discard(instant)
        if instant not in request.in_progress:
            return  # already concluded (nothing started, or ended at once)
        if run is not None and run in self._tracker.runs_of(state.key):
            request.logs[instant] = await self._log_locations(run)
            if instant in request.in_progress:
                entry = {"scheduledTime": iso_precise(instant), "tasks": run.tasks_status(),
                         "logs": request.logs[instant]}  # fmt: skip
                keep(request, entry)
                self._write(request)
            return
        outcome, reason = why_not_launched(self._jobs.get(state.key) or state, instant, run)
        self._instant_ended(
            request, instant, {"scheduledTime": iso_precise(instant), "outcome": outcome, "reason": reason}
        )

    async def _log_locations(self, run: Run) -> list[dict[str, str]]:
        """Where each task's containers write, from the task definition (read once per revision)."""
        if run.task_definition is None:
            return []
        configs = await self._ecs.log_configurations(scope=run.scope, task_definition_arn=run.task_definition)
        if configs is None:
            return []
        return [location for arn in run.arns for location in log_locations(arn, configs)]

    def _instant_ended(self, request: Request, instant: datetime, entry: dict[str, Any]) -> None:
        request.in_progress.discard(instant)
        outcome = entry.get("outcome")
        if outcome == "Succeeded":
            request.succeeded += 1
        elif outcome == "Skipped":
            request.skipped += 1
        else:
            request.failed += 1
        keep(request, entry)
        self._write(request)
        self._alarm.ring()

    def _finish(self, request: Request) -> None:
        request.phase = "Failed" if request.failed else "Succeeded"
        request.completed = self._clock.now()
        counts = f"{request.succeeded} succeeded, {request.failed} failed, {request.skipped} skipped of {request.total}"
        if request.failed:
            self._events.record(request.identity, "Warning", "Failed", counts)
        else:
            self._events.record(request.identity, "Normal", "Completed", counts)
        self._write(
            request, condition=("Failed" if request.failed else "Complete", "True", request.phase, counts)
        )
        self._expire_later(request)

    def _refuse(self, request: Request, error: SpecError) -> None:
        request.phase, request.completed = "Failed", self._clock.now()
        self._events.record(request.identity, "Warning", "InvalidRun", str(error))
        self._write(request, condition=("Failed", "True", "InvalidRun", str(error)))
        self._expire_later(request)

    def _wait(self, request: Request, why: str) -> None:
        if request.waiting_for == why:
            return
        request.waiting_for, request.phase = why, "Pending"
        self._events.record(request.identity, "Normal", "Waiting", why)
        self._write(request, condition=("Waiting", "True", "JobNotReady", why))

    def _write(self, request: Request, *, planned: bool = False, condition: Condition | None = None) -> None:
        state = (
            self._jobs.get(request.job) if request.spec is not None and request.phase != "Pending" else None
        )
        job_uid = state.identity.uid if state is not None else None
        patch = status_patch(
            request, job_uid=job_uid, now=self._clock.now(), planned=planned, condition=condition
        )
        self._status.write(request.key, patch)

    # -- Owner and time to live ------------------------------------------------------------

    async def _adopt(self, request: Request, state: JobState) -> None:
        owner = {"apiVersion": f"{names.GROUP}/{names.VERSION}", "kind": names.KIND,
                 "name": state.key.name, "uid": state.identity.uid}  # fmt: skip
        try:
            await self._objects.adopt_run(request.key.namespace, request.key.name, owner)
        except ObjectGone:
            pass
        except (TimeoutError, KubeError, OSError) as error:
            request.owned = False  # tried again at the next look
            logger.warning("could not make %s owned by its job: %s", request.key, error)

    def _expire_later(self, request: Request) -> None:
        ttl = request.spec.ttl_seconds_after_finished if request.spec else DEFAULT_TTL_SECONDS
        due = (request.completed or self._clock.now()) + timedelta(seconds=ttl)
        heapq.heappush(self._expiries, (due, request.key, request.uid))
        self._alarm.ring()

    def _delete_expired(self) -> None:
        now = self._clock.now()
        while self._expiries and self._expiries[0][0] <= now:
            _, key, uid = heapq.heappop(self._expiries)
            request = self._requests.get(key)
            if request is not None and request.uid == uid:
                self._background.spawn(self._delete(key, uid), name=f"expire:{key}")

    async def _delete(self, key: JobKey, uid: str) -> None:
        try:
            await self._objects.delete_run(key.namespace, key.name, uid)
        except (TimeoutError, KubeError, OSError) as error:
            logger.warning("could not delete finished run %s: %s", key, error)
