"""Launching a run: policy -> trigger -> calls -> hand-over to the pacer -> answers -> recorded.

`start` is the whole path for a fire that has to await something first (a trigger, a task
definition, a run in flight for the concurrency policy); `launch_at_once` + `follow` split it
for the common fire that can send at once, so a burst sends every RunTask before any answer is
awaited. Each attempt is launched with clientTokens derived from the job, the run (instant or
run-now value) and the attempt, so whatever repeats a launch gets ECS's deduplicated answer.
"""

import asyncio
from datetime import datetime
from typing import Any

from ecs_scheduler.adapters.aws import ASSUME_ROLE_FAILED
from ecs_scheduler.core.plan import run_task_calls
from ecs_scheduler.core.policies import concurrency_action
from ecs_scheduler.core.status import Readiness, iso_precise
from ecs_scheduler.core.tasks import TaskReport
from ecs_scheduler.model.launch import LaunchFailure, RunTaskCall
from ecs_scheduler.model.spec import ScheduledEcsJobSpec
from ecs_scheduler.model.status import RunOrigin
from ecs_scheduler.model.trigger import TriggerFailure
from ecs_scheduler.runtime.conclusion import Conclusion
from ecs_scheduler.runtime.concurrency import Concurrency
from ecs_scheduler.runtime.context import RunContext
from ecs_scheduler.runtime.definitions import TaskDefinitions
from ecs_scheduler.runtime.following import Following
from ecs_scheduler.runtime.jobs import JobState, PreparedCalls
from ecs_scheduler.runtime.launches import InstantAnswered, Launch, hand_over
from ecs_scheduler.runtime.pacing import MISSED
from ecs_scheduler.runtime.records import RunRecords
from ecs_scheduler.runtime.runs import Run
from ecs_scheduler.runtime.status_shape import blocked, marks, runs_patch, scheduled
from ecs_scheduler.runtime.triggering import Triggers

QUEUED_NOTICE_SECONDS = 1.0
"""A launch that waited this long behind the RunTask rate limit says so in its Event."""


class Launcher:
    def __init__(
        self,
        ctx: RunContext,
        *,
        records: RunRecords,
        definitions: TaskDefinitions,
        following: Following,
        conclusion: Conclusion,
        triggers: Triggers,
    ) -> None:
        self._ctx = ctx
        self._records = records
        self._definitions = definitions
        self._following = following
        self._conclusion = conclusion
        self._triggers = triggers
        self._concurrency = Concurrency(ctx, records)

    async def start(
        self,
        state: JobState,
        instant: datetime,
        *,
        next_run: datetime | None,
        origin: RunOrigin = "Schedule",
        run_now: str | None = None,
        spec: ScheduledEcsJobSpec | None = None,
        request: str | None = None,
    ) -> Run | None:
        """The whole launch path of one run; the run when it was launched (None: skipped, or
        stopped before RunTask: a trigger, a registration or the policy said no, and said why).
        `spec` is the job's own unless a run on demand changes it; `request` names that run."""
        assert state.job is not None
        spec, tracker = spec or state.job.spec, self._ctx.tracker
        # A run on demand leaves the schedule's marks (and the run-now annotation's) alone.
        stamp = marks(state, instant, origin, run_now, next_run) if request is None else {}
        if not await self._definitions.ensure_registered(state, stamp):
            return None
        if spec.concurrency_policy != "Allow" and tracker.runs_of(state.key):
            await self._following.sweep(tracker.runs_of(state.key))  # decide on fresh task states
            action = concurrency_action(spec.concurrency_policy, len(tracker.runs_of(state.key)))
            if action == "Skip":
                self._concurrency.skip(state, instant, origin, run_now, stamp)
                return None
            if action == "ReplaceThenLaunch":
                await self._concurrency.replace(state, instant)
        task_count, trigger_status = spec.task_count, {}
        if spec.trigger is not None:
            try:
                decision = await self._triggers.check(state, instant)
            except TriggerFailure as failure:
                self._triggers.report_failure(state, instant, failure)
                return None
            task_count = decision.tasks
            trigger_status = {
                "lastTriggerCheck": iso_precise(instant),
                "lastQueueDepth": decision.depth,
                "lastDecision": decision.explanation,
            }
            if task_count == 0:
                if self._ctx.jobs.get(state.key) is state:
                    self._ctx.report.ready(state, scheduled(state, next_run), {**trigger_status, **stamp})
                else:  # the spec changed meanwhile; its own plan wrote Ready and the next run
                    stamp.pop("estimatedNextRun", None)
                    self._ctx.report.write(state.key, {**trigger_status, **stamp})
                return None
        run = self.new_run(state, spec, instant, origin, run_now)
        run.request, run.behind = request, origin == "Backfill"
        launch = self.send(state, spec, run, task_count)
        await self._complete(state, launch, marks=stamp, trigger_status=trigger_status, next_run=next_run)
        return run

    def launch_at_once(self, state: JobState, instant: datetime) -> Launch | None:
        """Send RunTask for a scheduled run right now when nothing has to be awaited first (no
        trigger to measure, no run in flight for the concurrency policy to weigh); None when
        the run must go through `start`. Follow it with `follow`."""
        assert state.job is not None
        spec = state.job.spec
        if (
            spec.trigger is not None
            or (spec.container is not None and state.registered is None)
            or (spec.concurrency_policy != "Allow" and self._ctx.tracker.runs_of(state.key))
        ):
            return None
        return self.send(state, spec, self.new_run(state, spec, instant, "Schedule", None), spec.task_count)

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
        stamp = marks(state, launch.run.scheduled, "Schedule", None, next_run)
        complete = self._complete(
            state,
            launch,
            marks=stamp,
            trigger_status={},
            next_run=next_run,
            instant_answered=instant_answered,
        )
        self._ctx.background.spawn(
            complete, name=f"fire:{state.key}", job=state.key, stage="recording a launch"
        )

    def new_run(
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
            cluster=spec.cluster or self._ctx.config.default_cluster,
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
        ctx = self._ctx
        run, task_count = launch.run, sum(call.count for call in launch.calls)
        failures = await self.receive(launch)
        if instant_answered is not None:
            await asyncio.shield(instant_answered)
        await ctx.after_launch.turn()  # records wait until the RunTasks due now have gone out
        current = ctx.jobs.get(state.key)
        if current is None or current.identity.uid != state.identity.uid:
            return  # deleted while launching; its tasks carry the job's tags
        decision_text = f" ({trigger_status['lastDecision']})" if trigger_status else ""
        patch = {**trigger_status, **marks}
        if failures and all(f.reason == ASSUME_ROLE_FAILED for f in failures):
            # Nothing reached ECS: not a run, like a failed trigger check (no history record).
            if current is not state:
                patch.pop("estimatedNextRun", None)
            message = f"spec.roleArn: {failures[0].detail}"
            patch.update(self._records.launch_failed(current, run, message, tasks=0))
            blocked(ctx, current, ASSUME_ROLE_FAILED, message, patch)
            return
        if failures:
            reasons = "; ".join(f"{f.reason}{': ' + f.detail if f.detail else ''}" for f in failures)
            readiness = Readiness(
                False,
                "LaunchFailed",
                f"{len(run.arns)} of {task_count} tasks started: {reasons}"
                + ("" if MISSED in run.launch_failures else _queued(run)),
            )
            ctx.report.event(current, "Warning", "LaunchFailed", readiness.message)
            self._records.launch_failed(current, run, readiness.message, tasks=len(run.arns))
        else:
            readiness = scheduled(current, next_run)
            message = f"started {len(run.arns)} task(s) for {run.describe()}{decision_text}{_queued(run)}"
            ctx.report.event(current, "Normal", "Launched", message)
        if run.origin != "Backfill":  # a backfill's instants are past: lastRun stays the latest
            patch["lastRun"] = iso_precise(run.scheduled)
        await self._adopt_launched(current, run)
        if current is not state:
            # The spec changed while launching: its own plan already wrote Ready and the next run.
            patch.pop("estimatedNextRun", None)
            ctx.report.write(current.key, {**patch, **runs_patch(ctx, current)})
            return
        ctx.report.ready(current, readiness, {**patch, **runs_patch(ctx, current)})

    def prepare(self, state: JobState, instant: datetime | None) -> None:
        """Build the RunTask calls of the scheduled run at `instant` ahead of time. Only a job
        without a trigger knows its task count before it is due."""
        state.prepared = None
        if instant is None or state.job is None or state.job.spec.trigger is not None:
            return
        if state.job.spec.container is not None and state.registered is None:
            return  # built at the fire, once the task definition is registered
        spec = state.job.spec
        calls = self._calls(state, spec, instant, spec.task_count, run_now=None, attempt=1, behind=False)
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
        behind: bool,
    ) -> list[RunTaskCall]:
        return run_task_calls(
            spec,
            job=state.identity,
            instant=instant,
            task_count=task_count,
            default_cluster=self._ctx.config.default_cluster,
            scope=state.scope,
            started_by=self._ctx.config.started_by,
            run_now=run_now,
            attempt=attempt,
            registered=state.registered,
            behind=behind,
        )

    def send(self, state: JobState, spec: ScheduledEcsJobSpec, run: Run, task_count: int) -> Launch:
        """Build (or take the prepared) RunTask calls of one attempt and hand them over; nothing
        is awaited."""
        attempt = run.token_attempt or run.attempt
        prepared = state.prepared
        if (
            prepared is not None
            and state.job is not None
            and spec is state.job.spec  # a run on demand may change it
            and run.run_now is None
            and not run.behind
            and attempt == 1
            and (prepared.instant, prepared.task_count) == (run.scheduled, task_count)
        ):
            state.prepared, calls = None, prepared.calls
        else:
            calls = self._calls(state, spec, run.scheduled, task_count, run_now=run.run_now, attempt=attempt,
                                behind=run.behind)  # fmt: skip
        return Launch(run, calls, [hand_over(self._ctx.ecs, call) for call in calls], self._ctx.clock.now())

    async def receive(self, launch: Launch) -> list[LaunchFailure]:
        """The answers to a sent launch, into its run; the failures ECS or the API reported."""
        metrics = self._ctx.metrics
        run, calls = launch.run, launch.calls
        if run.origin == "Schedule" and run.attempt == 1:
            metrics.lateness.observe(max(0.0, (launch.sent_at - run.scheduled).total_seconds()))
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
            metrics.missed.inc()
        metrics.tasks_launched.inc(len(run.reports))
        for refused in failures:
            metrics.launch_failures.labels(refused.reason).inc()
        return failures

    async def _adopt_launched(self, state: JobState, run: Run) -> None:
        """Track a launched attempt; one that started nothing is finished at once."""
        if not run.reports and not run.not_started:
            return
        state.facts.latest_run = run
        self._ctx.tracker.add(run)
        if run.finished:
            await self._conclusion.finish(state, run)


def _queued(run: Run) -> str:
    """Said of a launch that waited noticeably behind the RunTask rate limit."""
    if run.queued_seconds < QUEUED_NOTICE_SECONDS:
        return ""
    return f" (queued {run.queued_seconds:.0f} s behind the ECS RunTask rate limit)"
