"""One scheduler for every job: a timeline of next fires, a loop that sleeps until the earliest.

kopf's watch handlers call `observe` and `forget`; nothing here is per-object in kopf. The
scheduler owns the jobs and the loop, and contains failures: whatever goes wrong with one job
stays with that job. Reading a job is `intake`'s, firing the due ones `firing`'s, and what a run
does once it is due the lifecycle's (docs/architecture.md).
"""

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from ecs_scheduler.adapters.ecs import EcsApi
from ecs_scheduler.adapters.kube import KubeWriter, RunObjects, StatusWriter
from ecs_scheduler.adapters.notify import NotificationSender
from ecs_scheduler.adapters.taskdefs import TaskDefinitionApi
from ecs_scheduler.adapters.taskqueue import TaskEventQueue
from ecs_scheduler.adapters.triggers import TriggerSource
from ecs_scheduler.core.requests import RequestCheck
from ecs_scheduler.core.status import Readiness, ready_of
from ecs_scheduler.core.verdict import Judge
from ecs_scheduler.model import names
from ecs_scheduler.model.config import OperatorConfig
from ecs_scheduler.model.job import JobKey
from ecs_scheduler.runtime.background import Background
from ecs_scheduler.runtime.clock import Clock
from ecs_scheduler.runtime.collector import PacedCollector, collections_paused
from ecs_scheduler.runtime.events import EventRecorder
from ecs_scheduler.runtime.firing import Firing
from ecs_scheduler.runtime.intake import Intake
from ecs_scheduler.runtime.jobs import JobState, Reporter
from ecs_scheduler.runtime.lifecycle import Lifecycle
from ecs_scheduler.runtime.metrics import Metrics
from ecs_scheduler.runtime.notifier import Notifier
from ecs_scheduler.runtime.on_demand import OnDemand
from ecs_scheduler.runtime.registrar import Registrar
from ecs_scheduler.runtime.status_sink import StatusSink
from ecs_scheduler.runtime.task_events import TaskEventConsumer
from ecs_scheduler.runtime.timetable import Timetable

logger = logging.getLogger(__name__)

HEARTBEAT = 5.0
"""The loop turns at least this often, even with nothing due, so that liveness can tell a loop
that waits from a loop that is stuck."""

STUCK_AFTER = 60.0
"""A loop that has not turned for this many seconds fails the liveness probe: the kubelet then
restarts the pod, and the standby (or the new pod) resumes every job from its status."""

RUN_WRITERS = 4
"""Status writes of runs on demand in flight at once: few objects, each written a few times."""

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
        run_objects: RunObjects | None = None,
        run_status: StatusWriter | None = None,
    ) -> None:
        self.metrics = metrics = metrics or Metrics()
        self._config = config
        self.judge = Judge.of_operator(config, request_check)
        """The verdict on a spec, as the Ready condition gives it (the admission webhook's too)."""
        self._clock = clock
        self._kube = kube
        self._background = background = Background(on_job_error=self._fault)
        self._last_turn = time.monotonic()
        self._loop_task: asyncio.Task[None] | None = None
        self._status = StatusSink(kube, metrics, concurrency=config.kube_concurrency)
        self._events = EventRecorder(
            kube, clock, background, metrics,
            refresh=config.event_series_refresh, rate=config.event_rate, burst=config.event_burst,
        )  # fmt: skip
        self._report = report = Reporter(self._status, self._events, clock)
        self._jobs: dict[JobKey, JobState] = {}
        # While standing by: the latest of every job (what scheduling reads of it), so that taking
        # over starts from what the previous leader wrote into each status. Dropped once active.
        self._standing_by: dict[JobKey, Mapping[str, Any]] = {}
        self._active = False
        self._timetable = timetable = Timetable()
        self._collector = PacedCollector(self._seconds_to_next_fire)
        metrics.jobs.count = self._jobs_by_reason
        notifier = Notifier(notifications, reporter=report, clock=clock, metrics=metrics, background=background,
                            jobs=self._jobs)  # fmt: skip
        self.lifecycle = lifecycle = Lifecycle(
            config=config, ecs=ecs, triggers=triggers, reporter=report, clock=clock, metrics=metrics,
            background=background, jobs=self._jobs, planned=timetable.planned,
            registrar=Registrar(task_definitions, metrics), notifier=notifier,
        )  # fmt: skip
        timetable.prepare = lifecycle.launcher.prepare
        self._intake = Intake(
            config=config, clock=clock, jobs=self._jobs, timetable=timetable, report=report, status=self._status,
            lifecycle=lifecycle, background=background, listing_over=self._collector.listing_over,
            request_check=request_check,
        )  # fmt: skip
        self._firing = Firing(jobs=self._jobs, clock=clock, timetable=timetable, lifecycle=lifecycle, report=report,
                              metrics=metrics, background=background, fault=self._fault)  # fmt: skip
        self.on_demand: OnDemand | None = None
        self._run_status: StatusSink | None = None
        if run_objects is not None and run_status is not None:
            self._run_status = StatusSink(run_status, metrics, concurrency=RUN_WRITERS, backlog_gauges=False)
            self.on_demand = OnDemand(
                config=config, clock=clock, jobs=self._jobs, planned=timetable.planned, launcher=lifecycle.launcher,
                tracker=lifecycle.tracker, status=self._run_status, objects=run_objects, ecs=ecs, events=self._events,
                background=background, request_check=request_check,
            )  # fmt: skip
            lifecycle.conclusion.concluded = self.on_demand.concluded
            lifecycle.retries.spec_for = self.on_demand.spec_for
        self._task_events = (
            None
            if task_events is None
            else TaskEventConsumer(
                task_events,
                apply=lifecycle.following.apply_task_events,
                landed=report.landed,
                metrics=metrics,
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
        if self.on_demand is not None:
            self.on_demand.set_active(True)
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
        if self.on_demand is not None:
            self.on_demand.set_active(False)
        for key in list(self._jobs):
            self._timetable.timeline.remove(key)
            self.lifecycle.tracker.forget(key)
        self._jobs.clear()
        self._timetable.wake.ring()

    def observe(self, body: Mapping[str, Any], *, listed: bool = False) -> None:
        """A job was listed (kopf's initial list), created or changed. Whatever goes wrong with
        one job stays with that job."""
        try:
            self._collector.observed()
            self._intake.follow_listing(listed)
            metadata = body["metadata"]
            if not self._active:
                self._standing_by[JobKey(metadata["namespace"], metadata["name"])] = _what_scheduling_reads(
                    body
                )
                return
            self._intake.observe(body)
        except Exception as error:  # the operator never stops on one job
            metadata = body.get("metadata") or {}
            self._fault(JobKey(str(metadata.get("namespace")), str(metadata.get("name"))), "observing", error)

    def forget(self, namespace: str, name: str) -> None:
        """A job was deleted: it stops at once."""
        key = JobKey(namespace, name)
        self._standing_by.pop(key, None)
        state = self._jobs.pop(key, None)
        if state is not None:
            self._background.spawn(
                self.lifecycle.definitions.deregister_all(state),
                name=f"deregister:{key}",
                job=key,
                stage="deleting",
            )
        self._timetable.remove(key)
        self._status.forget(key)
        self._events.forget(namespace, name)
        self.lifecycle.tracker.forget(key)

    def observe_run(self, body: Mapping[str, Any]) -> None:
        """A ScheduledEcsJobRun was listed, created or changed."""
        if self.on_demand is None:
            return
        try:
            self.on_demand.observe(body)
        except Exception:  # the operator never stops on one object
            logger.exception("could not read run %s", (body.get("metadata") or {}).get("name"))

    def forget_run(self, namespace: str, name: str) -> None:
        if self.on_demand is not None:
            self.on_demand.forget(namespace, name)

    # -- The loop ----------------------------------------------------------------------

    def _seconds_to_next_fire(self) -> float | None:
        earliest = self._timetable.timeline.earliest()
        return None if earliest is None else (earliest - self._clock.now()).total_seconds()

    async def run(self) -> None:
        """Fire due jobs forever; sleep until the earliest next fire or until woken."""
        background, timeline, wake = self._background, self._timetable.timeline, self._timetable.wake
        tracking = background.spawn(
            self.lifecycle.track(self._config.track_interval), name="tracker", daemon=True
        )
        collecting = background.spawn(self._collector.run(), name="gc", daemon=True)
        background.spawn(self._events.run(), name="event-series", daemon=True)
        if self._task_events is not None:
            background.spawn(self._task_events.run(), name="task-events", daemon=True)
        if self.on_demand is not None:
            background.spawn(self.on_demand.run(), name="runs-on-demand", daemon=True)
        self._loop_task = asyncio.current_task()
        try:
            while True:
                self._last_turn = time.monotonic()
                wake.reset()
                with collections_paused():  # the RunTasks due now go out first, in one stretch
                    sent, rest = self._firing.send_due(timeline.pop_due(self._clock.now()))
                if sent or rest:
                    await self._firing.finish(sent, rest)
                earliest = timeline.earliest()
                timeout = HEARTBEAT
                if earliest is not None:
                    timeout = min(timeout, max(0.0, (earliest - self._clock.now()).total_seconds()))
                await wake.sleep(timeout)
        finally:
            tracking.cancel()
            collecting.cancel()

    # -- Containment and liveness ------------------------------------------------------

    def _fault(self, key: JobKey, stage: str, error: BaseException) -> None:
        """Something failed while `stage` one job: that job stops (Ready=False, OperatorError, a
        Warning event and a metric) until its spec changes or the operator restarts; every
        other job goes on. Reporting itself must not fail, so it is guarded too."""
        logger.error("%s: failed while %s", key, stage, exc_info=error)
        self.metrics.job_faults.labels(stage).inc()
        try:
            self._timetable.remove(key)
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
        if self._run_status is not None:
            await self._run_status.drain(timeout)
            self._run_status.cancel()
        await self._events.close()
        self._status.cancel()
        self._background.cancel()
        await self._kube.close()
