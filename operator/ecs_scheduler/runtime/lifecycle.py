"""Runs from start to end: concurrency policy, trigger check, RunTask, tracking, outcome, retries.

The scheduler decides *when* (and which instant); this module does everything a run needs
after that. Each attempt of a run is launched with clientTokens derived from the job, the run
(instant or run-now value) and the attempt, so whatever repeats a launch (a restart, a
failover) gets ECS's deduplicated answer instead of new tasks.
"""

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from ecs_scheduler.adapters.aws import ASSUME_ROLE_FAILED, AssumeRoleFailed
from ecs_scheduler.adapters.ecs import EcsApi, EcsError
from ecs_scheduler.adapters.triggers import TriggerSource
from ecs_scheduler.core.arns import same_cluster_key
from ecs_scheduler.core.history import with_record
from ecs_scheduler.core.plan import job_tag_value, run_task_calls
from ecs_scheduler.core.policies import concurrency_action, plan_retry
from ecs_scheduler.core.scaling import ScalingDecision, decide
from ecs_scheduler.core.status import Readiness, iso, iso_precise, parse_instant, ready_of, schedule_readiness
from ecs_scheduler.core.taskdef import family_for, registration
from ecs_scheduler.core.taskevents import TaskEvent
from ecs_scheduler.core.tasks import TaskReport, run_verdict, task_report
from ecs_scheduler.model import names
from ecs_scheduler.model.config import OperatorConfig
from ecs_scheduler.model.job import JobKey
from ecs_scheduler.model.launch import LaunchFailure, RunTaskCall
from ecs_scheduler.model.spec import ScheduledEcsJobSpec
from ecs_scheduler.model.status import ReadyReason, RunOrigin, RunOutcome
from ecs_scheduler.model.trigger import TriggerFailure
from ecs_scheduler.runtime.background import Background
from ecs_scheduler.runtime.clock import Clock
from ecs_scheduler.runtime.jobs import JobState, PreparedCalls, Reporter
from ecs_scheduler.runtime.launches import InstantAnswered, Launch, hand_over
from ecs_scheduler.runtime.metrics import Metrics
from ecs_scheduler.runtime.notifier import Notifier
from ecs_scheduler.runtime.pacing import MISSED
from ecs_scheduler.runtime.priority import LowPriority
from ecs_scheduler.runtime.registrar import Registrar
from ecs_scheduler.runtime.runs import Run, run_name
from ecs_scheduler.runtime.tracker import EventsApplied, Tracker

logger = logging.getLogger(__name__)

_WRITES_PER_YIELD = 100
"""After a sweep over thousands of runs, the event loop runs between this many status writes."""

_NEXT_FIRE_GRACE = 5.0
QUEUED_NOTICE_SECONDS = 1.0
"""A launch that waited this long behind the RunTask rate limit says so in its Event."""
"""Seconds after a job's next instant by which that fire's own status write has merged in what
waited for it (its RunTask is answered well within this)."""

DEFAULT_LIMITS = (3, 1)


class Lifecycle:
    def __init__(
        self,
        *,
        config: OperatorConfig,
        ecs: EcsApi,
        triggers: Mapping[str, TriggerSource],
        reporter: Reporter,
        clock: Clock,
        metrics: Metrics,
        background: Background,
        jobs: Mapping[JobKey, JobState],
        planned: Callable[[JobKey], datetime | None],
        registrar: Registrar,
        notifier: Notifier,
    ) -> None:
        self._config = config
        self.notifier = notifier
        self._registrar = registrar
        self._planned = planned
        self._ecs = ecs
        self._triggers = triggers
        self._report = reporter
        self._clock = clock
        self._metrics = metrics
        self._background = background
        self._jobs = jobs
        self.tracker = Tracker(ecs, metrics)
        self._after_launch = LowPriority()
        self.orphan_check_due = False

    # -- Where runs live in status -------------------------------------------------------

    def runs_patch(self, state: JobState) -> dict[str, Any]:
        patch: dict[str, Any] = {
            "active": [run.to_status() for run in self.tracker.runs_of(state.key)],
            "history": state.facts.history,
            "lastSuccessfulRun": state.facts.last_successful_run,
        }
        if state.facts.latest_run is not None:
            patch["lastRunTasks"] = state.facts.latest_run.tasks_status()
        if state.facts.owed or state.facts.deliveries:
            patch.update(self.notifier.patch(state))
        return patch

    def resume(self, state: JobState, active: Iterable[dict[str, Any]], last_tasks: Iterable[Any]) -> None:
        """Track again what the status says was running when the operator stopped."""
        known = {t.get("taskArn"): t for t in last_tasks if isinstance(t, dict)}
        for raw in active:
            try:
                run = Run.from_status(state.key, raw, role=state.scope.role)
            except ValueError as error:
                logger.warning("ignoring unreadable status.active entry of %s: %s", state.key, error)
                continue
            for arn in run.reports:
                if arn in known:
                    run.reports[arn] = TaskReport(arn, str(known[arn].get("lastStatus") or "PROVISIONING"))
            self.tracker.add(run)
            state.facts.latest_run = run
            if run.waiting_for_retry:
                self._retry_later(run)

    # -- Starting a run ----------------------------------------------------------------

    async def start(
        self,
        state: JobState,
        instant: datetime,
        *,
        next_run: datetime | None,
        origin: RunOrigin = "Schedule",
        run_now: str | None = None,
    ) -> None:
        assert state.job is not None
        spec = state.job.spec
        marks = self._marks(state, instant, origin, run_now, next_run)
        if not await self.ensure_registered(state, marks):
            return
        if spec.concurrency_policy != "Allow" and self.tracker.runs_of(state.key):
            await self.sweep(self.tracker.runs_of(state.key))  # decide on fresh task states
            action = concurrency_action(spec.concurrency_policy, len(self.tracker.runs_of(state.key)))
            if action == "Skip":
                self._skip(state, instant, origin, run_now, marks)
                return
            if action == "ReplaceThenLaunch":
                await self._replace(state, instant)
        task_count, trigger_status = spec.task_count, {}
        if spec.trigger is not None:
            try:
                decision = await self._check_trigger(state, instant)
            except TriggerFailure as failure:
                self._report_trigger_failure(state, instant, failure)
                return
            task_count = decision.tasks
            trigger_status = {
                "lastTriggerCheck": iso_precise(instant),
                "lastQueueDepth": decision.depth,
                "lastDecision": decision.explanation,
            }
            if task_count == 0:
                if self._jobs.get(state.key) is state:
                    self._report.ready(state, self._scheduled(state, next_run), {**trigger_status, **marks})
                else:  # the spec changed meanwhile; its own plan wrote Ready and the next run
                    marks.pop("estimatedNextRun", None)
                    self._report.write(state.key, {**trigger_status, **marks})
                return
        run = self._new_run(state, spec, instant, origin, run_now)
        launch = self._send(state, spec, run, task_count)
        await self._complete(state, launch, marks=marks, trigger_status=trigger_status, next_run=next_run)

    def launch_at_once(self, state: JobState, instant: datetime) -> Launch | None:
        """Send RunTask for a scheduled run right now when nothing has to be awaited first (no
        trigger to measure, no run in flight for the concurrency policy to weigh); None when
        the run must go through `start`. Follow it with `follow`."""
        assert state.job is not None
        spec = state.job.spec
        if (
            spec.trigger is not None
            or (spec.container is not None and state.registered is None)
            or (spec.concurrency_policy != "Allow" and self.tracker.runs_of(state.key))
        ):
            return None
        return self._send(state, spec, self._new_run(state, spec, instant, "Schedule", None), spec.task_count)

    def follow(
        self,
        state: JobState,
        launch: Launch,
        *,
        next_run: datetime | None,
        instant_answered: InstantAnswered | None = None,
    ) -> None:
        """After `launch_at_once`: handle the answers and record the run, in the background,
        once `instant_answered` (every RunTask sent with this one has its answer)."""
        marks = self._marks(state, launch.run.scheduled, "Schedule", None, next_run)
        self._background.spawn(
            self._complete(
                state,
                launch,
                marks=marks,
                trigger_status={},
                next_run=next_run,
                instant_answered=instant_answered,
            ),
            name=f"fire:{state.key}",
            job=state.key,
            stage="recording a launch",
        )

    def _new_run(
        self,
        state: JobState,
        spec: ScheduledEcsJobSpec,
        instant: datetime,
        origin: RunOrigin,
        run_now: str | None,
    ) -> Run:
        return Run(
            key=state.key,
            scheduled=instant,
            cluster=spec.cluster or self._config.default_cluster,
            scope=state.scope,
            origin=origin,
            run_now=run_now,
            task_definition=state.registered or spec.task_definition,
        )

    async def _complete(
        self,
        state: JobState,
        launch: Launch,
        *,
        marks: dict[str, Any],
        trigger_status: dict[str, Any],
        next_run: datetime | None,
        instant_answered: InstantAnswered | None = None,
    ) -> None:
        """A sent launch: take the answers, then (once the RunTasks due now are out) record it."""
        run, task_count = launch.run, sum(call.count for call in launch.calls)
        failures = await self._receive(launch)
        if instant_answered is not None:
            await asyncio.shield(instant_answered)
        await self._after_launch.turn()  # records wait until the RunTasks due now have gone out
        current = self._jobs.get(state.key)
        if current is None or current.identity.uid != state.identity.uid:
            return  # deleted while launching; its tasks carry the job's tags
        decision_text = f" ({trigger_status['lastDecision']})" if trigger_status else ""
        patch = {**trigger_status, **marks}
        if failures and all(f.reason == ASSUME_ROLE_FAILED for f in failures):
            # Nothing reached ECS: not a run, like a failed trigger check (no history record).
            if current is not state:
                patch.pop("estimatedNextRun", None)
            message = f"spec.roleArn: {failures[0].detail}"
            patch.update(self._launch_failed(current, run, message, tasks=0))
            self._report_blocked(current, ASSUME_ROLE_FAILED, message, patch)
            return
        if failures:
            reasons = "; ".join(f"{f.reason}{': ' + f.detail if f.detail else ''}" for f in failures)
            readiness = Readiness(
                False,
                "LaunchFailed",
                f"{len(run.arns)} of {task_count} tasks started: {reasons}"
                + ("" if MISSED in run.launch_failures else _queued(run)),
            )
            self._report.event(current, "Warning", "LaunchFailed", readiness.message)
            self._launch_failed(current, run, readiness.message, tasks=len(run.arns))
        else:
            readiness = self._scheduled(current, next_run)
            message = f"started {len(run.arns)} task(s) for {run.describe()}{decision_text}{_queued(run)}"
            self._report.event(current, "Normal", "Launched", message)
        patch["lastRun"] = iso_precise(run.scheduled)
        await self._adopt_launched(current, run)
        if current is not state:
            # The spec changed while launching: its own plan already wrote Ready and the next run.
            patch.pop("estimatedNextRun", None)
            self._report.write(current.key, {**patch, **self.runs_patch(current)})
            return
        self._report.ready(current, readiness, {**patch, **self.runs_patch(current)})

    def _launch_failed(self, state: JobState, run: Run, reason: str, *, tasks: int) -> dict[str, Any]:
        """Notify a launch that failed (wholly or in part); the status patch that owes it."""
        return self._owe(
            state, run, run.record("LaunchFailed", reason, tasks=tasks, finished=self._clock.now())
        )

    def _owe(self, state: JobState, run: Run, record: dict[str, Any]) -> dict[str, Any]:
        """Notify how `run` ended; the status patch that owes it (empty: nobody wants it)."""
        return self.notifier.owe(state, record, run=run_name(run), tasks=run.tasks_status())

    def _marks(
        self,
        state: JobState,
        instant: datetime,
        origin: RunOrigin,
        run_now: str | None,
        next_run: datetime | None,
    ) -> dict[str, Any]:
        """What the status must remember so that a restart neither repeats nor loses this run."""
        if origin == "RunNow":
            return {"runNowHandled": run_now}
        state.facts.last_schedule_time = max(instant, state.facts.last_schedule_time or instant)
        return {
            "lastScheduleTime": iso_precise(state.facts.last_schedule_time),
            "estimatedNextRun": iso_precise(next_run) if next_run else None,
        }

    def _scheduled(self, state: JobState, next_run: datetime | None) -> Readiness:
        if state.job is None:
            return schedule_readiness(suspended=False, next_run=next_run, resolved="")
        suspended = state.job.spec.suspended  # a run-now of a suspended job leaves it Suspended
        return schedule_readiness(
            suspended=suspended, next_run=next_run, resolved=state.job.schedule.resolved()
        )

    def prepare(self, state: JobState, instant: datetime | None) -> None:
        """Build the RunTask calls of the scheduled run at `instant` ahead of time. Only a job
        without a trigger knows its task count before it is due."""
        state.prepared = None
        if instant is None or state.job is None or state.job.spec.trigger is not None:
            return
        if state.job.spec.container is not None and state.registered is None:
            return  # built at the fire, once the task definition is registered
        spec = state.job.spec
        calls = self._calls(state, spec, instant, spec.task_count, run_now=None, attempt=1)
        state.prepared = PreparedCalls(instant, spec.task_count, calls)

    def _calls(
        self,
        state: JobState,
        spec: ScheduledEcsJobSpec,
        instant: datetime,
        task_count: int,
        *,
        run_now: str | None,
        attempt: int,
    ) -> list[RunTaskCall]:
        return run_task_calls(
            spec,
            job=state.identity,
            instant=instant,
            task_count=task_count,
            default_cluster=self._config.default_cluster,
            scope=state.scope,
            started_by=self._config.started_by,
            run_now=run_now,
            attempt=attempt,
            registered=state.registered,
        )

    def _send(self, state: JobState, spec: ScheduledEcsJobSpec, run: Run, task_count: int) -> Launch:
        """Build (or take the prepared) RunTask calls of one attempt and hand them over; nothing
        is awaited."""
        attempt = run.token_attempt or run.attempt
        prepared = state.prepared
        if (
            prepared is not None
            and run.run_now is None
            and attempt == 1
            and (prepared.instant, prepared.task_count) == (run.scheduled, task_count)
        ):
            state.prepared, calls = None, prepared.calls
        else:
            calls = self._calls(state, spec, run.scheduled, task_count, run_now=run.run_now, attempt=attempt)
        return Launch(run, calls, [hand_over(self._ecs, call) for call in calls], self._clock.now())

    async def _receive(self, launch: Launch) -> list[LaunchFailure]:
        """The answers to a sent launch, into its run; the failures ECS or the API reported."""
        run, calls = launch.run, launch.calls
        if run.origin == "Schedule" and run.attempt == 1:
            self._metrics.lateness.observe(max(0.0, (launch.sent_at - run.scheduled).total_seconds()))
        outcomes = [await pending for pending in launch.pending]  # all were sent already
        for outcome in outcomes:
            for arn, status in zip(outcome.task_arns, outcome.task_statuses, strict=True):
                run.reports[arn] = TaskReport(arn, status)
        failures = [f for o in outcomes for f in o.failures]
        run.not_started = max(0, sum(c.count for c in calls) - len(run.reports))
        run.launch_failures = list(dict.fromkeys(f.reason for f in failures))
        run.uncertain = bool(failures) and all(f.uncertain for f in failures)
        run.queued_seconds = max((o.queued_seconds for o in outcomes), default=0.0)
        if any(f.reason == MISSED for f in failures):
            self._metrics.missed.inc()
        self._metrics.tasks_launched.inc(len(run.reports))
        for refused in failures:
            self._metrics.launch_failures.labels(refused.reason).inc()
        return failures

    async def _adopt_launched(self, state: JobState, run: Run) -> None:
        """Track a launched attempt; one that started nothing is finished at once."""
        if not run.reports and not run.not_started:
            return
        state.facts.latest_run = run
        self.tracker.add(run)
        if run.finished:
            await self._finish(state, run)

    def _skip(
        self,
        state: JobState,
        instant: datetime,
        origin: RunOrigin,
        run_now: str | None,
        marks: dict[str, Any],
    ) -> None:
        active = ", ".join(run.describe() for run in self.tracker.runs_of(state.key))
        reason = f"{active} still active (concurrencyPolicy Forbid)"
        self._record(
            state,
            Run(state.key, instant, "", state.scope, origin=origin, run_now=run_now),
            "Skipped",
            reason,
            tasks=0,
        )
        self._report.event(state, "Normal", "RunSkipped", f"skipped the run for {iso(instant)}: {reason}")
        self._report.write(state.key, {**marks, **self.runs_patch(state)})

    async def _replace(self, state: JobState, instant: datetime) -> None:
        reason = f"replaced by the run for {iso(instant)} (concurrencyPolicy Replace)"
        for run in self.tracker.runs_of(state.key):
            stopped = 0
            for arn in run.unfinished():
                try:
                    await self._ecs.stop_task(cluster=run.cluster, scope=run.scope, arn=arn, reason=reason)
                    stopped += 1
                except EcsError as error:
                    self._report.event(state, "Warning", "StopFailed", f"could not stop {arn}: {error}")
            self.tracker.remove(run)
            self._record(state, run, "Replaced", f"{stopped} task(s) stopped: {reason}", tasks=len(run.arns))
            self._report.event(state, "Normal", "RunReplaced", f"stopped {run.describe()}: {reason}")

    # -- Triggers ----------------------------------------------------------------------

    async def _check_trigger(self, state: JobState, instant: datetime) -> ScalingDecision:
        assert state.job is not None
        spec = state.job.spec
        trigger = spec.trigger
        assert trigger is not None
        measured = await self._triggers[trigger.type].measure(trigger, scope=state.scope, instant=instant)
        running = 0
        if trigger.strategy == "Accurate":
            runs = self.tracker.runs_of(state.key)
            await self.sweep(runs)
            running = sum(len(run.unfinished()) for run in self.tracker.runs_of(state.key))
        decision = decide(
            trigger, measured, task_count=spec.task_count, max_count=spec.effective_max_count, running=running
        )
        queue = trigger.queue_name or (trigger.queue_url or "").rsplit("/", 1)[-1]
        self._metrics.sqs_depth.labels(queue).set(decision.depth)
        return decision

    def _report_trigger_failure(self, state: JobState, instant: datetime, failure: TriggerFailure) -> None:
        patch = {"lastTriggerCheck": iso_precise(instant)}
        if failure.code == ASSUME_ROLE_FAILED:
            self._report_blocked(state, ASSUME_ROLE_FAILED, f"spec.roleArn: {failure.message}", patch)
        else:
            self._report_blocked(
                state, "TriggerError", f"spec.trigger: {failure.code}: {failure.message}", patch
            )

    def _report_blocked(
        self, state: JobState, reason: ReadyReason, message: str, patch: dict[str, Any]
    ) -> None:
        """A fire that could not happen (trigger check, role, task definition): Ready=False with
        AWS's message, and one Warning event per distinct error. The next fire that works clears it."""
        previous = ready_of(state.conditions)
        if previous.get("reason") != reason or previous.get("message") != message:
            self._report.event(state, "Warning", reason, message)
        logger.warning("%s for %s: %s", reason, state.key, message)
        self._report.ready(state, Readiness(False, reason, message), patch)

    # -- Task definitions of container jobs -----------------------------------------------

    async def ensure_registered(self, state: JobState, marks: dict[str, Any] | None = None) -> bool:
        """For a container job, resolve (find or register) the task definition of its spec; False
        when that failed (reported). Other jobs need nothing."""
        if state.job is None or state.job.spec.container is None or state.registered is not None:
            return True
        request = registration(state.job.spec.container, key=state.key, region=state.scope.region)
        try:
            found = await self._registrar.resolve(
                scope=state.scope, request=request, remembered=state.facts.registered
            )
        except AssumeRoleFailed as error:
            self._report_blocked(
                state, ASSUME_ROLE_FAILED, f"spec.roleArn: {error.code}: {error.message}", dict(marks or {})
            )
            return False
        except EcsError as error:
            message = f"spec.container: could not register the task definition: {error}"
            self._report_blocked(state, "TaskDefinitionFailed", message, dict(marks or {}))
            return False
        state.registered = found.arn
        if state.facts.registered != found:
            # Whatever revision this job ran before is no longer wanted once its runs end.
            state.facts.stale_revisions = True
            state.facts.registered = found
            self._report.write(
                state.key, {"taskDefinitionArn": found.arn, "taskDefinitionHash": found.content_hash}
            )
        self._background.spawn(self.prune_revisions(state), name=f"prune:{state.key}")
        return True

    def register_soon(self, state: JobState) -> None:
        """Resolve a container job's task definition now, so that its first fire need not wait."""
        if state.job is not None and state.job.spec.container is not None:
            self._background.spawn(
                self.ensure_registered(state),
                name=f"register:{state.key}",
                job=state.key,
                stage="registering",
            )

    async def prune_revisions(self, state: JobState) -> None:
        """Deregister the job's other revisions once none of its runs in flight may use them."""
        if not state.facts.stale_revisions or state.registered is None:
            return
        if any(run.task_definition != state.registered for run in self.tracker.runs_of(state.key)):
            return  # a run of an older revision is still in flight: after it ends
        state.facts.stale_revisions = False
        try:
            await self._registrar.deregister_others(
                scope=state.scope, family=family_for(state.key), keep=state.registered
            )
        except EcsError as error:
            state.facts.stale_revisions = True  # tried again after the job's next run
            logger.warning("could not deregister old task definitions of %s: %s", state.key, error)

    async def deregister_all(self, state: JobState) -> None:
        """A deleted container job leaves no ACTIVE revision behind (running tasks keep running)."""
        if state.job is None or state.job.spec.container is None:
            return
        try:
            await self._registrar.deregister_others(
                scope=state.scope, family=family_for(state.key), keep=None
            )
        except EcsError as error:
            logger.warning("could not deregister the task definitions of deleted %s: %s", state.key, error)

    # -- Following runs to their end -----------------------------------------------------

    async def track(self, interval: float) -> None:
        """Sweep every tracked task forever. One interval after the scheduler became active
        (the jobs are listed by then), look once for tasks nobody recorded.

        With ECS's event stream as the source, the full sweep is only a safety net (every
        task_events_sweep seconds); in between, only tasks no event has spoken of for
        task_events_grace seconds are described."""
        last_full = time.monotonic()
        while True:
            await asyncio.sleep(interval)
            try:
                if self.orphan_check_due:
                    self.orphan_check_due = False
                    await self._adopt_orphans()
                events = bool(self._config.task_events_queue)
                if not events or time.monotonic() - last_full >= self._config.task_events_sweep:
                    last_full = time.monotonic()
                    runs = self.tracker.all_runs()
                else:
                    runs = self.tracker.silent(self._config.task_events_grace)
                if runs:
                    await self.sweep(runs)
            except Exception:  # one bad sweep must not end tracking
                logger.exception("task sweep failed")

    async def sweep(self, runs: list[Run]) -> None:
        """Refresh `runs`, then finish those that ended and write the jobs that changed."""
        await self._conclude(runs, await self.tracker.refresh(runs))

    async def apply_task_events(self, events: list[TaskEvent]) -> EventsApplied:
        """Apply events from ECS's event stream, finish the runs that ended, and write what
        changed at once (the event's message waits for that write)."""
        result = self.tracker.apply_events(events, started_by=self._config.started_by)
        await self._conclude(result.changed, result.changed, at_once=True)
        return result

    async def _conclude(self, runs: list[Run], changed: list[Run], *, at_once: bool = False) -> None:
        """Finish those of `runs` that ended; write the jobs of `changed` and of ended runs."""
        touched = {run.key for run in changed}
        urgent: set[JobKey] = set()
        for run in runs:
            state = self._jobs.get(run.key)
            if state is not None and run.finished and run in self.tracker.runs_of(run.key):
                # Thousands of runs may end in one sweep: each waits its turn behind the fires.
                await self._after_launch.turn()
                if await self._finish(state, run) != "Succeeded":
                    urgent.add(run.key)
                touched.add(run.key)
        for count, key in enumerate(touched, 1):
            if (state := self._jobs.get(key)) is not None:
                self._report.write(
                    key,
                    self.runs_patch(state),
                    within=0.0 if at_once or key in urgent else self._settle(key),
                )
            if count % _WRITES_PER_YIELD == 0:
                await asyncio.sleep(0)  # a fire due meanwhile goes first

    def _settle(self, key: JobKey) -> float:
        """How long news that no one waits for (tasks started, a run that succeeded) may wait:
        until the job's next fire, when that is within the merge window, so that one status
        write carries both. Failures are never held back."""
        upcoming = self._planned(key)
        if upcoming is None:
            return 0.0
        ahead = (upcoming - self._clock.now()).total_seconds()
        return ahead + _NEXT_FIRE_GRACE if 0.0 <= ahead <= self._config.status_merge_window else 0.0

    async def _finish(self, state: JobState, run: Run) -> RunOutcome:
        verdict = run_verdict(
            await self.tracker.verdicts(run), not_started=run.not_started, launch_failures=run.launch_failures
        )
        self.tracker.remove(run)
        policy = state.job.spec.retry_policy if state.job else None
        retry = None
        if verdict.outcome == "Failed":
            retry = plan_retry(
                policy, attempt=run.attempt, failure_codes=verdict.failure_codes, now=self._clock.now()
            )
        reason = verdict.reason
        if retry is not None and policy is not None:
            reason += f"; retrying {retry.tasks} task(s) at {iso(retry.at)} (attempt {retry.attempt} of {policy.max_attempts})"
        self._record(state, run, verdict.outcome, reason, tasks=len(run.arns))
        if verdict.outcome == "Succeeded":
            state.facts.last_successful_run = iso_precise(run.scheduled)
            self._report.event(state, "Normal", "RunSucceeded", f"{run.describe()} succeeded: {reason}")
        else:
            ended = "failed" if verdict.outcome == "Failed" else "ended with an unknown outcome"
            self._report.event(state, "Warning", "RunFailed", f"{run.describe()} {ended}: {reason}")
        if retry is not None:
            following = run.next_attempt(attempt=retry.attempt, at=retry.at, tasks=retry.tasks)
            self.tracker.add(following)
            self._retry_later(following)
        elif state.facts.stale_revisions:
            self._background.spawn(self.prune_revisions(state), name=f"prune:{state.key}")
        return verdict.outcome

    def _record(self, state: JobState, run: Run, outcome: RunOutcome, reason: str, *, tasks: int) -> None:
        successes, others = (
            (state.job.spec.successful_runs_history_limit, state.job.spec.failed_runs_history_limit)
            if state.job
            else DEFAULT_LIMITS
        )
        record = run.record(outcome, reason, tasks=tasks, finished=self._clock.now())
        state.facts.history = with_record(state.facts.history, record, successes=successes, others=others)
        self._metrics.runs_finished.labels(outcome).inc()
        self._owe(state, run, record)

    # -- Retries -------------------------------------------------------------------------

    def _retry_later(self, run: Run) -> None:
        self._background.spawn(
            self._retry(run), name=f"retry:{run.key}", daemon=True, job=run.key, stage="retrying"
        )

    async def _retry(self, run: Run) -> None:
        assert run.retry_at is not None
        await asyncio.sleep(max(0.0, (run.retry_at - self._clock.now()).total_seconds()))
        state = self._jobs.get(run.key)
        if state is None or state.job is None or run not in self.tracker.runs_of(run.key):
            return  # deleted, invalid or replaced meanwhile
        count = run.retry_tasks
        if not await self.ensure_registered(state):
            return  # reported; the retry waits in status for the registration to work
        run.task_definition = state.registered or state.job.spec.task_definition
        failures = await self._receive(self._send(state, state.job.spec, run, count))
        # Only now: a sweep during the launch would otherwise see an attempt without tasks as done.
        run.retry_at, run.retry_tasks = None, 0
        self._report.event(
            state,
            "Warning" if failures else "Normal",
            "Retried",
            f"started {len(run.reports)} of {count} task(s) for {run.describe()}"
            + (f": {', '.join(run.launch_failures)}" if failures else ""),
        )
        state.facts.latest_run = run
        if run.finished:
            await self._finish(state, run)
        self._report.write(state.key, self.runs_patch(state))

    # -- After a restart: tasks launched but never recorded --------------------------------

    async def _adopt_orphans(self) -> None:
        """Find this operator's tasks that no status mentions (killed between RunTask and the
        status write, and not relaunched within the deadline), and track them as runs."""
        # A cluster named by name in one job and by ARN in another is listed once.
        places = {
            (s.scope, same_cluster_key(s.job.spec.cluster or self._config.default_cluster,
                                       s.scope.account or self._config.account_id))
            for s in self._jobs.values()
            if s.job is not None
        }  # fmt: skip
        tracked = self.tracker.tracked_arns()
        for scope, cluster in sorted(places, key=str):
            try:
                arns = await self._ecs.list_tasks(
                    cluster=cluster, scope=scope, started_by=self._config.started_by
                )
                fresh = [arn for arn in arns if arn not in tracked]
                described = await self._ecs.describe_tasks(
                    cluster=cluster, scope=scope, arns=fresh, tags=True
                )
            except EcsError as error:
                logger.warning("could not list tasks of %s in %s: %s", cluster, scope.describe(), error)
                continue
            by_tag = {job_tag_value(str(key)): key for key in self._jobs}
            for (key, instant), tasks in _group_by_run(described, by_tag).items():
                state = self._jobs.get(key)
                if state is None or not _unrecorded(state, instant, self.tracker.runs_of(key)):
                    continue
                run = Run(key, instant, cluster, scope, reports={t.arn: t for t in tasks})
                logger.info("adopting %d untracked task(s) of %s for %s", len(tasks), key, iso(instant))
                state.facts.latest_run = run
                self.tracker.add(run)
                self._report.write(key, self.runs_patch(state))


def _queued(run: Run) -> str:
    """Said of a launch that waited noticeably behind the RunTask rate limit."""
    if run.queued_seconds < QUEUED_NOTICE_SECONDS:
        return ""
    return f" (queued {run.queued_seconds:.0f} s behind the ECS RunTask rate limit)"


def _group_by_run(
    described: list[dict[str, Any]], by_tag: Mapping[str, JobKey]
) -> dict[tuple[JobKey, datetime], list[TaskReport]]:
    """Tasks by (job, scheduled instant), read from their tags; `by_tag` maps job tag values
    (hashed for long names) to the jobs this process knows."""
    grouped: dict[tuple[JobKey, datetime], list[TaskReport]] = {}
    for raw in described:
        tags = {t.get("key"): t.get("value") for t in raw.get("tags") or []}
        key = by_tag.get(str(tags.get(names.JOB_TAG)))
        instant = parse_instant(tags.get(names.SCHEDULED_AT_TAG))
        if key is None or instant is None:
            continue  # not a tag this operator wrote, or a job it does not know
        grouped.setdefault((key, instant), []).append(task_report(raw))
    return grouped


def _unrecorded(state: JobState, instant: datetime, runs: list[Run]) -> bool:
    """True when no status of this job accounts for a run at `instant`."""
    if state.facts.resumed_after is not None and instant <= state.facts.resumed_after:
        return False
    seen = {iso(run.scheduled) for run in runs} | {
        iso(parse_instant(r.get("scheduledTime"))) for r in state.facts.history
    }
    return iso(instant) not in seen
