"""One scheduler for every job: a timeline of next fires, a loop that sleeps until the earliest.

kopf's watch handlers call `observe` and `forget`; nothing here is per-object in kopf. A fire
computes the job's next instant before launching, so a slow ECS call never delays the next
fire of that job or of any other. What a run does once it is due lives in `lifecycle`.
"""

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from ecs_scheduler.adapters.ecs import EcsApi
from ecs_scheduler.adapters.kube import KubeWriter
from ecs_scheduler.adapters.notify import NotificationSender
from ecs_scheduler.adapters.taskdefs import TaskDefinitionApi
from ecs_scheduler.adapters.taskqueue import TaskEventQueue
from ecs_scheduler.adapters.triggers import TriggerSource
from ecs_scheduler.core.catchup import catch_up, on_time
from ecs_scheduler.core.errors import SpecError
from ecs_scheduler.core.plan import JobIdentity
from ecs_scheduler.core.requests import RequestCheck
from ecs_scheduler.core.status import Readiness, iso, iso_precise, parse_instant, ready_of, schedule_readiness
from ecs_scheduler.core.taskdef import Registered
from ecs_scheduler.core.tenancy import forbidden, scope_of
from ecs_scheduler.core.timeline import Timeline
from ecs_scheduler.core.validation import ValidJob, validate_spec
from ecs_scheduler.model import names
from ecs_scheduler.model.config import OperatorConfig
from ecs_scheduler.model.job import JobKey
from ecs_scheduler.runtime.alarm import Alarm
from ecs_scheduler.runtime.background import Background
from ecs_scheduler.runtime.clock import Clock
from ecs_scheduler.runtime.collector import PacedCollector, collections_paused
from ecs_scheduler.runtime.events import EventRecorder
from ecs_scheduler.runtime.jobs import JobState, Reporter
from ecs_scheduler.runtime.launches import InstantAnswered, Launch, all_answered
from ecs_scheduler.runtime.lifecycle import Lifecycle
from ecs_scheduler.runtime.metrics import Metrics
from ecs_scheduler.runtime.notifier import Notifier
from ecs_scheduler.runtime.registrar import Registrar
from ecs_scheduler.runtime.status_sink import StatusSink
from ecs_scheduler.runtime.task_events import TaskEventConsumer

logger = logging.getLogger(__name__)

_LISTING_HOLD = 60.0
"""Status writes that planning makes while kopf hands over its initial list wait for the list's
end (at most this many seconds): at start, thousands of them (and the watch events they cause)
would otherwise compete with the listing itself."""

_LISTING_QUIET = 0.5
"""Seconds without a listed object after which the initial list is taken to be over."""

_FIRES_PER_YIELD = 16
"""In a burst (thousands of jobs on one second), start sending after this many fires instead of
after computing every job's next instant first."""

HEARTBEAT = 5.0
"""The loop turns at least this often, even with nothing due, so that liveness can tell a loop
that waits from a loop that is stuck."""

STUCK_AFTER = 60.0
"""A loop that has not turned for this many seconds fails the liveness probe: the kubelet then
restarts the pod, and the standby (or the new pod) resumes every job from its status."""


Rejection = tuple[SpecError, Literal["InvalidSpec", "Forbidden"]]


def _fingerprint(uid: str, spec: Any) -> str:
    return json.dumps([uid, spec], sort_keys=True, default=str)


def _resume_point(body: Mapping[str, Any]) -> datetime | None:
    """The instant after which instants are due when a job is first seen by this process:
    the last one handled, or (never handled) the job's creation, as CronJob does."""
    status = body.get("status") or {}
    for value in (status.get("lastScheduleTime"), status.get("lastRun"), status.get("lastTriggerCheck")):
        if (instant := parse_instant(value)) is not None:
            return instant
    return parse_instant(body["metadata"].get("creationTimestamp"))


_METADATA_READ = ("namespace", "name", "uid", "generation", "creationTimestamp")


def _what_scheduling_reads(body: Mapping[str, Any]) -> dict[str, Any]:
    """A job as `observe` reads it: without managedFields and the rest of metadata, which are
    most of a body's size and would be held for every job while standing by."""
    metadata = body["metadata"]
    kept = {name: metadata[name] for name in _METADATA_READ if name in metadata}
    run_now = (metadata.get("annotations") or {}).get(names.RUN_NOW_ANNOTATION)
    if run_now is not None:
        kept["annotations"] = {names.RUN_NOW_ANNOTATION: run_now}
    return {"metadata": kept, "spec": body.get("spec"), "status": body.get("status")}


class Scheduler:
    def __init__(
        self,
        *,
        config: OperatorConfig,
        ecs: EcsApi,
        kube: KubeWriter,
        clock: Clock,
        triggers: Mapping[str, TriggerSource],
        task_definitions: TaskDefinitionApi,
        metrics: Metrics | None = None,
        task_events: TaskEventQueue | None = None,
        notifications: NotificationSender | None = None,
        request_check: RequestCheck | None = None,
    ) -> None:
        self.metrics = metrics or Metrics()
        self._config = config
        self._clock = clock
        self._kube = kube
        self._request_check = request_check
        self._background = Background(on_job_error=self._fault)
        self._last_turn = time.monotonic()
        self._loop_task: asyncio.Task[None] | None = None
        self._status = StatusSink(kube, self.metrics, concurrency=config.kube_concurrency)
        self._events = EventRecorder(
            kube, clock, self._background, self.metrics,
            refresh=config.event_series_refresh, rate=config.event_rate, burst=config.event_burst,
        )  # fmt: skip
        self._report = Reporter(self._status, self._events, clock)
        self._jobs: dict[JobKey, JobState] = {}
        # While standing by: the latest of every job (what scheduling reads of it), so that taking
        # over starts from what the previous leader wrote into each status. Dropped once active.
        self._standing_by: dict[JobKey, Mapping[str, Any]] = {}
        self._active = False
        self._listing = False
        self._held: list[JobKey] = []
        self._listing_quiet: asyncio.TimerHandle | None = None
        self._timeline: Timeline[JobKey] = Timeline()
        self._wake = Alarm()
        self._collector = PacedCollector(self._seconds_to_next_fire)
        self.metrics.jobs.count = self._jobs_by_reason
        self.lifecycle = Lifecycle(
            config=config,
            ecs=ecs,
            triggers=triggers,
            reporter=self._report,
            clock=clock,
            metrics=self.metrics,
            background=self._background,
            jobs=self._jobs,
            planned=self._timeline.planned,
            registrar=Registrar(task_definitions, self.metrics),
            notifier=Notifier(
                notifications,
                reporter=self._report,
                clock=clock,
                metrics=self.metrics,
                background=self._background,
                jobs=self._jobs,
            ),
        )
        self._task_events = (
            None
            if task_events is None
            else TaskEventConsumer(
                task_events,
                apply=self.lifecycle.apply_task_events,
                landed=self._report.landed,
                metrics=self.metrics,
                sns_topics=config.task_events_sns_topics,
            )
        )

    def _jobs_by_reason(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for state in list(self._jobs.values()):
            reason = str(ready_of(state.conditions).get("reason") or "Unknown")
            counts[reason] = counts.get(reason, 0) + 1
        return counts

    # -- Feeding: called by the watch handlers -------------------------------------------

    def activate(self) -> None:
        """Start scheduling (at start, or when elected): every job as if just listed."""
        self._active = True
        self.metrics.leader.set(1)
        self.lifecycle.orphan_check_due = True
        waiting, self._standing_by = self._standing_by, {}
        for body in waiting.values():
            self.observe(body)

    def deactivate(self) -> None:
        """Stop scheduling at once (leadership lost); launches in flight finish. The process exits
        next (a replica that lost the Lease restarts as a standby), so nothing is kept for a
        later takeover."""
        self._active = False
        self.metrics.leader.set(0)
        for key in list(self._jobs):
            self._timeline.remove(key)
            self.lifecycle.tracker.forget(key)
        self._jobs.clear()
        self._wake.ring()

    def observe(self, body: Mapping[str, Any], *, listed: bool = False) -> None:
        """A job was listed (kopf's initial list), created or changed. Cheap when only its
        status changed. Whatever goes wrong with one job stays with that job."""
        try:
            self._observe(body, listed=listed)
        except Exception as error:  # the operator never stops on one job
            metadata = body.get("metadata") or {}
            self._fault(JobKey(str(metadata.get("namespace")), str(metadata.get("name"))), "observing", error)

    def _observe(self, body: Mapping[str, Any], *, listed: bool) -> None:
        self._collector.observed()
        self._follow_listing(listed)
        metadata = body["metadata"]
        key = JobKey(metadata["namespace"], metadata["name"])
        if not self._active:
            self._standing_by[key] = _what_scheduling_reads(body)
            return
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
        job: ValidJob | None = None
        rejected: Rejection | None = None
        try:
            job = validate_spec(
                body.get("spec"),
                identity=str(key),
                now=now,
                check=self._request_check,
                default_cluster=self._config.default_cluster,
                default_region=self._config.default_region,
            )
        except SpecError as error:
            rejected = (error, "InvalidSpec")
        except Exception as error:  # the operator never crashes on a spec
            logger.exception("unexpected error validating %s", key)
            rejected = (SpecError("spec", f"could not be read: {error}"), "InvalidSpec")
        else:
            policy = self._config.tenant_policy
            denied = forbidden(
                policy,
                namespace=key.namespace,
                spec=job.spec,
                default_cluster=self._config.default_cluster,
                home_account=self._config.account_id,
            )
            rejected = (denied, "Forbidden") if denied is not None else None
            state.scope = scope_of(
                policy, namespace=key.namespace, spec=job.spec, default_region=self._config.default_region
            )
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
            self._plan(state, now, status, resume=_resume_point(body) if previous is None else None)
            self.lifecycle.register_soon(state)
        self._maybe_run_now(state, run_now)

    def _follow_listing(self, listed: bool) -> None:
        if listed:
            self._listing = True
            if self._listing_quiet is not None:
                self._listing_quiet.cancel()
            self._listing_quiet = asyncio.get_running_loop().call_later(_LISTING_QUIET, self._end_listing)
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
        self._collector.listing_over()

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
        self.lifecycle.tracker.forget(state.key)
        self.lifecycle.resume(state, status.get("active") or [], status.get("lastRunTasks") or [])
        self.lifecycle.notifier.resume(state, status)

    def forget(self, namespace: str, name: str) -> None:
        """A job was deleted: it stops at once."""
        key = JobKey(namespace, name)
        self._standing_by.pop(key, None)
        state = self._jobs.pop(key, None)
        if state is not None:
            self._background.spawn(
                self.lifecycle.deregister_all(state), name=f"deregister:{key}", job=key, stage="deleting"
            )
        self._timeline.remove(key)
        self._status.forget(key)
        self._events.forget(namespace, name)
        self.lifecycle.tracker.forget(key)
        self._wake.ring()

    def _reject(
        self,
        state: JobState,
        error: SpecError,
        status: Mapping[str, Any],
        *,
        reason: Literal["InvalidSpec", "Forbidden"] = "InvalidSpec",
    ) -> None:
        """The job will not run: say which field, once, as a condition and a Warning event."""
        self._timeline.remove(state.key)
        self._wake.ring()
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
        self._schedule(state, next_run)
        readiness = schedule_readiness(
            suspended=spec.suspended, next_run=next_run, resolved=schedule.resolved()
        )
        patch = {
            "estimatedNextRun": iso_precise(next_run) if next_run else None,
            "resolvedSchedule": schedule.resolved(),
        }
        self._write_condition(state, readiness, patch, status)

    def _schedule(self, state: JobState, instant: datetime | None) -> None:
        """Plan the job's next fire (None: never) and build its RunTask calls ahead."""
        self._timeline.set(state.key, instant)
        self.lifecycle.prepare(state, instant)
        self._wake.ring()

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
        self._background.spawn(
            self.lifecycle.start(
                state,
                self._clock.now(),
                next_run=self._timeline.planned(state.key),
                origin="RunNow",
                run_now=value,
            ),
            name=f"run-now:{state.key}",
            job=state.key,
            stage="launching",
        )

    def _status_changes(
        self, state: JobState, readiness: Readiness, patch: Mapping[str, Any], status: Mapping[str, Any]
    ) -> bool:
        ready = ready_of(status.get("conditions"))
        return (
            any(status.get(k) != v for k, v in patch.items())
            or status.get("observedGeneration") != state.generation
            or ready.get("status") != ("True" if readiness.ready else "False")
            or ready.get("reason") != readiness.reason
            or ready.get("message") != readiness.message
        )

    def _write_condition(
        self, state: JobState, readiness: Readiness, patch: dict[str, Any], status: Mapping[str, Any]
    ) -> bool:
        """Write unless the status already says this; True when it wrote."""
        # After a restart most jobs already show what we would write: skip those writes.
        if not self._status_changes(state, readiness, patch, status):
            return False
        within = 0.0
        if self._listing:
            within = _LISTING_HOLD
            self._held.append(state.key)
        self._report.ready(state, readiness, {**patch, "observedGeneration": state.generation}, within=within)
        return True

    # -- The loop ----------------------------------------------------------------------

    def _seconds_to_next_fire(self) -> float | None:
        earliest = self._timeline.earliest()
        return None if earliest is None else (earliest - self._clock.now()).total_seconds()

    async def run(self) -> None:
        """Fire due jobs forever; sleep until the earliest next fire or until woken."""
        tracking = self._background.spawn(
            self.lifecycle.track(self._config.track_interval), name="tracker", daemon=True
        )
        collecting = self._background.spawn(self._collector.run(), name="gc", daemon=True)
        self._background.spawn(self._events.run(), name="event-series", daemon=True)
        if self._task_events is not None:
            self._background.spawn(self._task_events.run(), name="task-events", daemon=True)
        self._loop_task = asyncio.current_task()
        try:
            while True:
                self._last_turn = time.monotonic()
                self._wake.reset()
                with collections_paused():  # the RunTasks due now go out first, in one stretch
                    sent, rest = self._send_due(self._timeline.pop_due(self._clock.now()))
                if sent or rest:
                    await self._fire_rest(sent, rest)
                earliest = self._timeline.earliest()
                timeout = HEARTBEAT
                if earliest is not None:
                    timeout = min(timeout, max(0.0, (earliest - self._clock.now()).total_seconds()))
                await self._wake.sleep(timeout)
        finally:
            tracking.cancel()
            collecting.cancel()

    def _send_due(
        self, due: list[tuple[JobKey, datetime]]
    ) -> tuple[list[tuple[JobState, Launch]], list[tuple[JobKey, datetime]]]:
        """Send the RunTask of every due job that can go out at once; (those sent, the rest).
        In a burst of thousands of jobs on one second the last RunTask thus waits only for the
        other sends, not for their schedule maths, status writes and Events."""
        sent, rest = [], []
        for key, instant in due:
            launched = self._launch_at_once(key, instant)
            if launched is None:
                rest.append((key, instant))
            else:
                sent.append(launched)
        return sent, rest

    async def _fire_rest(
        self, sent: list[tuple[JobState, Launch]], rest: list[tuple[JobKey, datetime]]
    ) -> None:
        """Finish the fires whose RunTask went out, then fire the others (triggers, catch-up)."""
        instant_answered = all_answered(launch for _, launch in sent)
        for count, (state, launch) in enumerate(sent, 1):
            try:
                self._after_sending(state, launch, instant_answered)
            except Exception as error:  # one job's fire must not end the loop for every job
                self._fault(state.key, "firing", error)
            if count % _FIRES_PER_YIELD == 0:
                await asyncio.sleep(0)  # let status writes and watch events through now and then
        for count, (key, instant) in enumerate(rest, 1):
            try:
                self._fire(key, instant)
            except Exception as error:
                self._fault(key, "firing", error)
            if count % _FIRES_PER_YIELD == 0:
                await asyncio.sleep(0)  # let the launches spawned so far send RunTask

    def _launch_at_once(self, key: JobKey, due: datetime) -> tuple[JobState, Launch] | None:
        """Send RunTask for `due` now if it is simply on time; None leaves the fire to `_fire`."""
        state = self._jobs.get(key)
        if state is None or state.job is None:
            return None
        if not on_time(due, self._clock.now(), state.job.spec.starting_deadline_seconds):
            return None
        try:
            launch = self.lifecycle.launch_at_once(state, due)
        except Exception:  # nothing was sent; the ordinary path tries again and reports
            logger.exception("sending RunTask for %s at once failed", key)
            return None
        return None if launch is None else (state, launch)

    def _after_sending(self, state: JobState, launch: Launch, instant_answered: InstantAnswered) -> None:
        """The rest of a fire whose RunTask went out: plan the next one, follow this one."""
        assert state.job is not None
        # On time means nothing else came due since, so the next instant is simply the next one.
        next_run = state.job.schedule.next_after(launch.run.scheduled)
        if self._jobs.get(state.key) is state:  # else a spec change planned the job anew meanwhile
            self._schedule(state, next_run)
        self.metrics.fires.inc()
        self.lifecycle.follow(state, launch, next_run=next_run, instant_answered=instant_answered)

    def _fire(self, key: JobKey, due: datetime) -> None:
        state = self._jobs.get(key)
        if state is None or state.job is None:
            return
        now = self._clock.now()
        deadline = state.job.spec.starting_deadline_seconds
        plan = catch_up(state.job.schedule, due, now, deadline)
        self._schedule(state, plan.next_due)
        self.metrics.fires.inc()
        if plan.missed:
            self.metrics.missed.inc(plan.missed)
            counted = f"{'more than ' if plan.capped else ''}{plan.missed}"
            outcome = (
                f"running only the latest, {iso(plan.run)}"
                if plan.run is not None
                else f"the latest, {iso(plan.latest)}, is past startingDeadlineSeconds ({deadline}s) and will not run"
            )
            message = f"{counted} scheduled instant(s) up to {iso(plan.latest)} missed; {outcome}"
            logger.warning("%s: %s", key, message)
            self._report.event(state, "Warning", "MissedSchedule", message)
            missed = {"scheduledTime": iso_precise(plan.latest), "outcome": "Missed", "tasks": 0,
                      "reason": message, "finishedTime": iso(now)}  # fmt: skip
            owed = self.lifecycle.notifier.owe(state, missed, run=iso_precise(plan.latest))
            if owed:
                self._report.write(key, owed)
        if plan.run is None:
            state.facts.last_schedule_time = plan.latest
            self._report.write(
                key,
                {
                    "lastScheduleTime": iso_precise(plan.latest),
                    "estimatedNextRun": iso_precise(plan.next_due) if plan.next_due else None,
                },
            )
            return
        self._background.spawn(
            self.lifecycle.start(state, plan.run, next_run=plan.next_due),
            name=f"fire:{key}",
            job=key,
            stage="launching",
        )

    # -- Containment and liveness ------------------------------------------------------

    def _fault(self, key: JobKey, stage: str, error: BaseException) -> None:
        """Something failed while `stage` one job: that job stops (Ready=False, OperatorError, a
        Warning event and a metric) until its spec changes or the operator restarts; every
        other job goes on. Reporting itself must not fail, so it is guarded too."""
        logger.error("%s: failed while %s", key, stage, exc_info=error)
        self.metrics.job_faults.labels(stage).inc()
        try:
            self._timeline.remove(key)
            self._wake.ring()
            state = self._jobs.get(key)
            if state is None:
                return
            state.job, state.prepared = None, None  # nothing more fires for this spec
            text = f"the operator failed while {stage} this job: {type(error).__name__}: {error}"[:1024]
            text += "; it does not run until its spec changes"
            self._report.ready(state, Readiness(False, "OperatorError", text), {"estimatedNextRun": None})
            self._report.event(state, "Warning", "OperatorError", text)
        except Exception:
            logger.exception("%s: could not report the failure", key)

    def health(self) -> dict[str, float]:
        """Liveness: the loop is running and has turned within STUCK_AFTER. Raises otherwise."""
        if self._loop_task is not None and self._loop_task.done():
            raise RuntimeError("the scheduler loop has ended")
        idle = time.monotonic() - self._last_turn
        if idle > STUCK_AFTER:
            raise RuntimeError(f"the scheduler loop has not turned for {idle:.0f} s")
        return {"loopIdleSeconds": round(idle, 3), "jobs": float(len(self._jobs))}

    async def close(self, timeout: float = 5.0) -> None:
        """Let launches, status writes and Event counts in flight finish, then stop."""
        await self._background.wait(timeout)
        if self._task_events is not None:
            await self._task_events.close()  # unfinished batches stay in the queue for the next leader
        await self.lifecycle.notifier.close()
        await self._status.drain(timeout)
        await self._events.close()
        self._status.cancel()
        self._background.cancel()
        await self._kube.close()
