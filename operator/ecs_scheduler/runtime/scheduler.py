"""One scheduler for every job: a timeline of next fires, a loop that sleeps until the earliest.

kopf's watch handlers call `observe` and `forget`; nothing here is per-object in kopf. A fire
computes the job's next instant before launching, so a slow ECS call never delays the next
fire of that job or of any other.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ecs_scheduler.adapters.ecs import EcsApi
from ecs_scheduler.adapters.kube import KubeWriter
from ecs_scheduler.adapters.triggers import TriggerSource
from ecs_scheduler.core.errors import SpecError
from ecs_scheduler.core.plan import JobIdentity, run_task_calls
from ecs_scheduler.core.scaling import ScalingDecision, decide
from ecs_scheduler.core.status import (
    Readiness,
    iso,
    iso_precise,
    ready_condition,
    ready_of,
    schedule_readiness,
    with_condition,
)
from ecs_scheduler.core.timeline import Timeline
from ecs_scheduler.core.validation import ValidJob, validate_spec
from ecs_scheduler.model.config import OperatorConfig
from ecs_scheduler.model.job import JobKey
from ecs_scheduler.model.launch import RunTaskOutcome
from ecs_scheduler.model.trigger import TriggerFailure
from ecs_scheduler.runtime.clock import Clock
from ecs_scheduler.runtime.metrics import Metrics
from ecs_scheduler.runtime.status_sink import StatusSink

logger = logging.getLogger(__name__)

# A fire whose successor is already this far in the past was stalled (loop blocked, machine
# suspended): skip ahead instead of bursting through every missed instant.
_CATCH_UP_LIMIT = timedelta(seconds=1)
_NOT_YET_STOPPED = frozenset({"PROVISIONING", "PENDING", "ACTIVATING", "RUNNING"})


@dataclass
class JobState:
    """What the scheduler holds for one resource."""

    identity: JobIdentity
    fingerprint: str
    generation: int | None
    job: ValidJob | None
    conditions: list[dict[str, Any]] = field(default_factory=list)
    active_tasks: set[str] = field(default_factory=set)


def _fingerprint(uid: str, spec: Any) -> str:
    return json.dumps([uid, spec], sort_keys=True, default=str)


class Scheduler:
    def __init__(
        self,
        *,
        config: OperatorConfig,
        ecs: EcsApi,
        kube: KubeWriter,
        clock: Clock,
        triggers: Mapping[str, TriggerSource],
        metrics: Metrics | None = None,
    ) -> None:
        self._config = config
        self.metrics = metrics or Metrics()
        self._triggers = triggers
        self._ecs = ecs
        self._kube = kube
        self._clock = clock
        self._status = StatusSink(kube, self.metrics)
        self._jobs: dict[JobKey, JobState] = {}
        self._timeline: Timeline[JobKey] = Timeline()
        self._wake = asyncio.Event()
        self._background: set[asyncio.Task[None]] = set()

    # -- Feeding: called by the watch handlers -------------------------------------------

    def observe(self, body: Mapping[str, Any]) -> None:
        """A job was listed, created or changed. Cheap when only its status changed."""
        metadata = body["metadata"]
        key = JobKey(metadata["namespace"], metadata["name"])
        uid = str(metadata.get("uid", ""))
        fingerprint = _fingerprint(uid, body.get("spec"))
        previous = self._jobs.get(key)
        if previous is not None and previous.fingerprint == fingerprint:
            return
        status = body.get("status") or {}
        state = JobState(
            identity=JobIdentity(key.namespace, key.name, uid),
            fingerprint=fingerprint,
            generation=metadata.get("generation"),
            job=None,
            conditions=list(previous.conditions if previous else status.get("conditions") or []),
            # After a restart, the last run's tasks are what may still be running.
            active_tasks=set(previous.active_tasks)
            if previous
            else {t["taskArn"] for t in status.get("lastRunTasks") or [] if t.get("taskArn")},
        )
        self._jobs[key] = state
        now = self._clock.now()
        try:
            state.job = validate_spec(body.get("spec"), identity=str(key), now=now)
        except SpecError as error:
            self._reject(key, state, error.field, error.message, status)
            return
        except Exception as error:  # the operator never crashes on a spec
            logger.exception("unexpected error validating %s", key)
            self._reject(key, state, "spec", f"could not be read: {error}", status)
            return
        self._plan(key, state, now, status)

    def forget(self, namespace: str, name: str) -> None:
        """A job was deleted: it stops at once."""
        key = JobKey(namespace, name)
        self._jobs.pop(key, None)
        self._timeline.remove(key)
        self._status.forget(key)
        self._wake.set()

    def _reject(
        self, key: JobKey, state: JobState, field_path: str, message: str, status: Mapping[str, Any]
    ) -> None:
        self._timeline.remove(key)
        self._wake.set()
        text = f"{field_path}: {message}"
        logger.warning("invalid spec for %s: %s", key, text)
        readiness = Readiness(False, "InvalidSpec", text)
        patch = {"estimatedNextRun": None, "resolvedSchedule": None}
        if self._write_condition(key, state, readiness, patch, status):
            self._emit(state, "Warning", "InvalidSpec", text)

    def _plan(self, key: JobKey, state: JobState, now: datetime, status: Mapping[str, Any]) -> None:
        assert state.job is not None
        spec, schedule = state.job.spec, state.job.schedule
        next_run = None if spec.suspended else schedule.next_after(now)
        self._timeline.set(key, next_run)
        self._wake.set()
        readiness = schedule_readiness(
            suspended=spec.suspended, next_run=next_run, resolved=schedule.resolved()
        )
        patch = {
            "estimatedNextRun": iso_precise(next_run) if next_run else None,
            "resolvedSchedule": schedule.resolved(),
        }
        self._write_condition(key, state, readiness, patch, status)

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
        self,
        key: JobKey,
        state: JobState,
        readiness: Readiness,
        patch: dict[str, Any],
        status: Mapping[str, Any],
    ) -> bool:
        """Write unless the status already says this; True when it wrote."""
        # After a restart most jobs already show what we would write: skip those writes.
        if not self._status_changes(state, readiness, patch, status):
            return False
        self._write_ready(key, state, readiness, {**patch, "observedGeneration": state.generation})
        return True

    # -- The loop ----------------------------------------------------------------------

    async def run(self) -> None:
        """Fire due jobs forever; sleep until the earliest next fire or until woken."""
        while True:
            self._wake.clear()
            for key, instant in self._timeline.pop_due(self._clock.now()):
                self._fire(key, instant)
            earliest = self._timeline.earliest()
            timeout = None if earliest is None else max(0.0, (earliest - self._clock.now()).total_seconds())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    def _fire(self, key: JobKey, instant: datetime) -> None:
        state = self._jobs.get(key)
        if state is None or state.job is None:
            return
        now = self._clock.now()
        next_run = state.job.schedule.next_after(instant)
        if next_run is not None and next_run < now - _CATCH_UP_LIMIT:
            next_run = state.job.schedule.next_after(now - _CATCH_UP_LIMIT)
        self._timeline.set(key, next_run)
        self.metrics.fires.inc()
        self._spawn(self._launch(key, state, instant, next_run), name=f"fire:{key}")

    async def _launch(
        self, key: JobKey, state: JobState, instant: datetime, next_run: datetime | None
    ) -> None:
        assert state.job is not None
        spec = state.job.spec
        task_count, trigger_status = spec.task_count, {}
        if spec.trigger is not None:
            try:
                decision = await self._check_trigger(state, instant)
            except TriggerFailure as failure:
                self._report_trigger_failure(key, state, instant, failure)
                return
            task_count = decision.tasks
            trigger_status = {
                "lastTriggerCheck": iso_precise(instant),
                "lastQueueDepth": decision.depth,
                "lastDecision": decision.explanation,
            }
            if task_count == 0:
                resolved = state.job.schedule.resolved()
                readiness = schedule_readiness(suspended=False, next_run=next_run, resolved=resolved)
                self._write_ready(key, state, readiness, trigger_status)
                return
        calls = run_task_calls(
            spec,
            job=state.identity,
            instant=instant,
            task_count=task_count,
            default_cluster=self._config.default_cluster,
            default_region=self._config.default_region,
            started_by=self._config.started_by,
        )
        self.metrics.lateness.observe(max(0.0, (self._clock.now() - instant).total_seconds()))
        outcomes: list[RunTaskOutcome] = list(await asyncio.gather(*(self._ecs.run_task(c) for c in calls)))
        arns = [arn for o in outcomes for arn in o.task_arns]
        statuses = [s for o in outcomes for s in o.task_statuses]
        failures = [f for o in outcomes for f in o.failures]
        self.metrics.tasks_launched.inc(len(arns))
        for refused in failures:
            self.metrics.launch_failures.labels(refused.reason).inc()
        state = self._jobs.get(key) or state  # the spec may have changed while launching
        state.active_tasks.update(arns)
        decision_text = f" ({trigger_status['lastDecision']})" if trigger_status else ""
        if failures:
            reasons = "; ".join(f"{f.reason}{': ' + f.detail if f.detail else ''}" for f in failures)
            readiness = Readiness(
                False, "LaunchFailed", f"{len(arns)} of {task_count} tasks started: {reasons}"
            )
            self._emit(state, "Warning", "LaunchFailed", readiness.message)
        else:
            resolved = state.job.schedule.resolved() if state.job else ""
            readiness = schedule_readiness(suspended=False, next_run=next_run, resolved=resolved)
            self._emit(
                state, "Normal", "Launched", f"started {len(arns)} task(s) for {iso(instant)}{decision_text}"
            )
        self._write_ready(
            key,
            state,
            readiness,
            {
                **trigger_status,
                "lastRun": iso_precise(instant),
                "lastRunTasks": [
                    {"taskArn": a, "lastStatus": s} for a, s in zip(arns, statuses, strict=True)
                ],
                "estimatedNextRun": iso_precise(next_run) if next_run else None,
            },
        )

    async def _check_trigger(self, state: JobState, instant: datetime) -> ScalingDecision:
        assert state.job is not None
        spec = state.job.spec
        trigger = spec.trigger
        assert trigger is not None
        region = spec.region or self._config.default_region
        measured = await self._triggers[trigger.type].measure(trigger, region=region, instant=instant)
        running = 0
        if trigger.strategy == "Accurate" and state.active_tasks:
            statuses = await self._ecs.task_statuses(
                cluster=spec.cluster or self._config.default_cluster,
                region=region,
                arns=sorted(state.active_tasks),
            )
            still = {arn for arn, status in statuses.items() if status in _NOT_YET_STOPPED}
            state.active_tasks.intersection_update(still)  # stopped or forgotten tasks no longer count
            running = len(still)
        return decide(
            trigger, measured, task_count=spec.task_count, max_count=spec.effective_max_count, running=running
        )

    def _report_trigger_failure(
        self, key: JobKey, state: JobState, instant: datetime, failure: TriggerFailure
    ) -> None:
        message = f"spec.trigger: {failure.code}: {failure.message}"
        previous = ready_of(state.conditions)
        if previous.get("reason") != "TriggerError" or previous.get("message") != message:
            self._emit(state, "Warning", "TriggerError", message)  # once per distinct error, not every check
        logger.warning("trigger check for %s failed: %s", key, message)
        readiness = Readiness(False, "TriggerError", message)
        self._write_ready(key, state, readiness, {"lastTriggerCheck": iso_precise(instant)})

    def _write_ready(self, key: JobKey, state: JobState, readiness: Readiness, patch: dict[str, Any]) -> None:
        condition = ready_condition(
            readiness, generation=state.generation, previous=state.conditions, now=self._clock.now()
        )
        state.conditions = with_condition(state.conditions, condition)
        self._status.write(key, {**patch, "conditions": state.conditions})

    # -- Side tasks --------------------------------------------------------------------

    def _emit(self, state: JobState, type_: str, reason: str, message: str) -> None:
        identity = state.identity
        self._spawn(
            self._kube.post_event(
                namespace=identity.namespace,
                name=identity.name,
                uid=identity.uid,
                type_=type_,
                reason=reason,
                message=message,
            ),
            name=f"event:{identity.key}",
        )

    def _spawn(self, coroutine: Any, *, name: str) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coroutine, name=name)
        self._background.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def close(self, timeout: float = 5.0) -> None:
        """Let launches and status writes in flight finish, then stop."""
        if self._background:
            await asyncio.wait(list(self._background), timeout=timeout)
        await self._status.drain(timeout)
        self._status.cancel()
        for task in self._background:
            task.cancel()
