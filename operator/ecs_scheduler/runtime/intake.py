"""A job as the watch hands it over: validated, allowed, planned and reported, or rejected.

Cheap when only the status changed (most events are the operator's own status writes). While
kopf hands over its initial list, the status writes that planning makes wait for the list's
end, so that thousands of them do not compete with the listing itself.
"""

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Literal

from ecs_scheduler.core.errors import SpecError
from ecs_scheduler.core.plan import JobIdentity
from ecs_scheduler.core.requests import RequestCheck
from ecs_scheduler.core.status import Readiness, iso_precise, parse_instant, ready_of, schedule_readiness
from ecs_scheduler.core.taskdef import Registered
from ecs_scheduler.core.tenancy import scope_of
from ecs_scheduler.core.validation import ValidJob
from ecs_scheduler.core.verdict import Judge
from ecs_scheduler.model import names
from ecs_scheduler.model.config import OperatorConfig
from ecs_scheduler.model.job import JobKey
from ecs_scheduler.runtime.background import Background
from ecs_scheduler.runtime.clock import Clock
from ecs_scheduler.runtime.jobs import JobState, Reporter
from ecs_scheduler.runtime.lifecycle import Lifecycle
from ecs_scheduler.runtime.status_sink import StatusSink
from ecs_scheduler.runtime.timetable import Timetable

logger = logging.getLogger(__name__)

LISTING_HOLD = 60.0
"""Status writes that planning makes while kopf hands over its initial list wait for the list's
end (at most this many seconds)."""

LISTING_QUIET = 0.5
"""Seconds without a listed object after which the initial list is taken to be over."""

Rejection = tuple[SpecError, Literal["InvalidSpec", "Forbidden"]]


def _fingerprint(uid: str, spec: Any) -> str:
    return json.dumps([uid, spec], sort_keys=True, default=str)


def _resume_point(body: Mapping[str, Any]) -> datetime | None:
    """The instant after which instants are due when a job is first seen by this process:
    the last one handled, or (never handled here) the last one run elsewhere before a hand-over,
    or the job's creation, as CronJob does."""
    status = body.get("status") or {}
    for value in (status.get("lastScheduleTime"), status.get("lastRun"), status.get("lastTriggerCheck")):
        if (instant := parse_instant(value)) is not None:
            return instant
    return _handed_over(body) or parse_instant(body["metadata"].get("creationTimestamp"))


def _handed_over(body: Mapping[str, Any]) -> datetime | None:
    """The resume-after annotation: where a job moved from another scheduler goes on from."""
    annotations = body["metadata"].get("annotations") or {}
    return parse_instant(annotations.get(names.RESUME_AFTER_ANNOTATION))


class Intake:
    def __init__(
        self,
        *,
        config: OperatorConfig,
        clock: Clock,
        jobs: dict[JobKey, JobState],
        timetable: Timetable,
        report: Reporter,
        status: StatusSink,
        lifecycle: Lifecycle,
        background: Background,
        listing_over: Callable[[], None],
        request_check: RequestCheck | None,
    ) -> None:
        self._config = config
        self._clock = clock
        self._jobs = jobs
        self._timetable = timetable
        self._report = report
        self._status = status
        self._lifecycle = lifecycle
        self._background = background
        self._listing_over = listing_over
        self._judge = Judge.of_operator(config, request_check)
        self._listing = False
        self._held: list[JobKey] = []
        self._listing_quiet: asyncio.TimerHandle | None = None

    def observe(self, body: Mapping[str, Any]) -> None:
        metadata = body["metadata"]
        key = JobKey(metadata["namespace"], metadata["name"])
        uid = str(metadata.get("uid", ""))
        previous = self._jobs.get(key)
        run_now = (metadata.get("annotations") or {}).get(names.RUN_NOW_ANNOTATION)
        generation = metadata.get("generation")
        # Most events are our own status writes: the API server moves `generation` with every
        # spec change and never with a status write, so an equal one means nothing to plan.
        if (
            previous is not None
            and generation is not None
            and previous.generation == generation
            and previous.identity.uid == uid
        ):
            self._maybe_run_now(previous, run_now)
            return
        fingerprint = _fingerprint(uid, body.get("spec"))
        if previous is not None and previous.fingerprint == fingerprint:
            previous.generation = generation  # the same spec: later events take the fast path
            self._maybe_run_now(previous, run_now)
            return
        status = body.get("status") or {}
        state = JobState(
            identity=JobIdentity(key.namespace, key.name, uid),
            fingerprint=fingerprint,
            generation=generation,
            job=None,
        )
        self._jobs[key] = state
        now = self._clock.now()
        job, rejected = self._validate(state, body.get("spec"), now)
        # After the scope is known: runs resumed from status are followed with the job's role.
        if previous is not None and previous.identity.uid == uid:
            state.carry_over(previous)
        else:
            self._restore(state, status)
        if rejected is not None:
            self._reject(state, rejected[0], status, reason=rejected[1])
        else:
            assert job is not None
            state.job = job
            # A job resumed (or changed) before it ever fired here goes on from its hand-over point,
            # so a cut-over from another scheduler neither repeats its last instant nor skips one.
            resume = _resume_point(body) if previous is None else None
            if previous is not None and state.facts.last_schedule_time is None:
                resume = _handed_over(body)
            self._plan(state, now, status, resume=resume)
            self._lifecycle.definitions.register_soon(state)
        self._maybe_run_now(state, run_now)

    def _validate(
        self, state: JobState, spec: Any, now: datetime
    ) -> tuple[ValidJob | None, Rejection | None]:
        """The job, or why it may not run; sets the job's AWS scope."""
        config, key = self._config, state.key
        verdict = self._judge(spec, namespace=key.namespace, name=key.name, now=now)
        if verdict.job is None:
            assert verdict.error is not None and verdict.reason is not None
            return None, (verdict.error, verdict.reason)
        job, policy = verdict.job, config.tenant_policy
        state.scope = scope_of(
            policy, namespace=key.namespace, spec=job.spec, default_region=config.default_region
        )
        return job, ((verdict.error, verdict.reason) if verdict.error and verdict.reason else None)

    # -- The initial list ---------------------------------------------------------------

    def follow_listing(self, listed: bool) -> None:
        if listed:
            self._listing = True
            if self._listing_quiet is not None:
                self._listing_quiet.cancel()
            self._listing_quiet = asyncio.get_running_loop().call_later(LISTING_QUIET, self._end_listing)
        elif self._listing:
            self._end_listing()

    def _end_listing(self) -> None:
        """The initial list is in: what its planning held back is written now."""
        if self._listing_quiet is not None:
            self._listing_quiet.cancel()
            self._listing_quiet = None
        self._listing = False
        held, self._held = self._held, []
        self._status.expedite(held)
        self._listing_over()

    # -- First sight, plans and rejections ------------------------------------------------

    def _restore(self, state: JobState, status: Mapping[str, Any]) -> None:
        """First sight of a job in this process: pick up what the status remembers."""
        state.conditions = list(status.get("conditions") or [])
        state.facts.history = list(status.get("history") or [])
        state.facts.last_successful_run = status.get("lastSuccessfulRun")
        state.facts.last_schedule_time = parse_instant(status.get("lastScheduleTime"))
        state.facts.resumed_after = state.facts.last_schedule_time
        state.facts.run_now_handled = status.get("runNowHandled")
        arn, content_hash = status.get("taskDefinitionArn"), status.get("taskDefinitionHash")
        if arn and content_hash:
            state.facts.registered = Registered(str(arn), str(content_hash))
        self._lifecycle.tracker.forget(state.key)
        self._lifecycle.resume(state, status.get("active") or [], status.get("lastRunTasks") or [])
        self._lifecycle.notifier.resume(state, status)

    def _reject(
        self,
        state: JobState,
        error: SpecError,
        status: Mapping[str, Any],
        *,
        reason: Literal["InvalidSpec", "Forbidden"] = "InvalidSpec",
    ) -> None:
        """The job will not run: say which field, once, as a condition and a Warning event."""
        self._timetable.remove(state.key)
        text = str(error)
        logger.warning("%s for %s: %s", reason, state.key, text)
        readiness = Readiness(False, reason, text)
        patch = {"estimatedNextRun": None, "resolvedSchedule": None}
        if self._write_condition(state, readiness, patch, status):
            self._report.event(state, "Warning", reason, text)

    def _plan(
        self, state: JobState, now: datetime, status: Mapping[str, Any], *, resume: datetime | None
    ) -> None:
        assert state.job is not None
        spec, schedule = state.job.spec, state.job.schedule
        next_run = None
        if not spec.suspended:
            # After a restart, instants missed while down are due at once (the fire decides
            # which one runs); otherwise (new spec) the schedule starts from now.
            next_run = schedule.next_after(resume) if resume is not None else None
            if next_run is None or next_run > now:
                next_run = state.job.next_after(now)
        self._timetable.set(state, next_run)
        readiness = schedule_readiness(
            suspended=spec.suspended, next_run=next_run, resolved=schedule.resolved()
        )
        patch = {
            "estimatedNextRun": iso_precise(next_run) if next_run else None,
            "resolvedSchedule": schedule.resolved(),
        }
        self._write_condition(state, readiness, patch, status)

    def _maybe_run_now(self, state: JobState, value: str | None) -> None:
        """Start one run for a new value of the run-now annotation, once."""
        if not value or value == state.facts.run_now_handled:
            return
        state.facts.run_now_handled = value
        if state.job is None:
            self._report.event(
                state, "Warning", "RunNowRejected", f"run-now {value!r} ignored: the spec is invalid"
            )
            self._report.write(state.key, {"runNowHandled": value})
            return
        started = self._lifecycle.launcher.start(state, self._clock.now(), next_run=self._timetable.planned(state.key),
                                        origin="RunNow", run_now=value)  # fmt: skip
        self._background.spawn(started, name=f"run-now:{state.key}", job=state.key, stage="launching")

    def _write_condition(
        self, state: JobState, readiness: Readiness, patch: dict[str, Any], status: Mapping[str, Any]
    ) -> bool:
        """Write unless the status already says this; True when it wrote."""
        # After a restart most jobs already show what we would write: skip those writes.
        ready = ready_of(status.get("conditions"))
        unchanged = (
            all(status.get(k) == v for k, v in patch.items())
            and status.get("observedGeneration") == state.generation
            and ready.get("status") == ("True" if readiness.ready else "False")
            and ready.get("reason") == readiness.reason
            and ready.get("message") == readiness.message
        )
        if unchanged:
            return False
        within = 0.0
        if self._listing:
            within = LISTING_HOLD
            self._held.append(state.key)
        self._report.ready(state, readiness, {**patch, "observedGeneration": state.generation}, within=within)
        return True
