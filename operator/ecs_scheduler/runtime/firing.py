"""Firing the jobs due at one instant: sends first, then the rest of each fire.

Every RunTask that can go out at once does, before any job's next instant is worked out or any
status written, so in a burst of thousands of jobs on one second the last RunTask waits only for
the other sends. Then each fire plans its job's next instant and is followed in the background;
fires that must await something (a trigger, a task definition, the concurrency policy) and
late ones (catch-up, deadlines, missed instants) go through the launch path's `start`.
"""

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from ecs_scheduler.core.catchup import catch_up, on_time
from ecs_scheduler.core.status import iso, iso_precise
from ecs_scheduler.model.job import JobKey
from ecs_scheduler.runtime.background import Background
from ecs_scheduler.runtime.clock import Clock
from ecs_scheduler.runtime.jobs import JobState, Reporter
from ecs_scheduler.runtime.launches import InstantAnswered, Launch, all_answered
from ecs_scheduler.runtime.lifecycle import Lifecycle
from ecs_scheduler.runtime.metrics import Metrics
from ecs_scheduler.runtime.timetable import Timetable

logger = logging.getLogger(__name__)

FIRES_PER_YIELD = 16
"""In a burst, start sending after this many fires instead of after computing every job's next
instant first."""

Fault = Callable[[JobKey, str, BaseException], None]
Sent = tuple[JobState, Launch]


class Firing:
    def __init__(
        self,
        *,
        jobs: Mapping[JobKey, JobState],
        clock: Clock,
        timetable: Timetable,
        lifecycle: Lifecycle,
        report: Reporter,
        metrics: Metrics,
        background: Background,
        fault: Fault,
    ) -> None:
        self._jobs = jobs
        self._clock = clock
        self._timetable = timetable
        self._lifecycle = lifecycle
        self._report = report
        self._metrics = metrics
        self._background = background
        self._fault = fault

    def send_due(
        self, due: list[tuple[JobKey, datetime]]
    ) -> tuple[list[Sent], list[tuple[JobKey, datetime]]]:
        """Send the RunTask of every due job that can go out at once; (those sent, the rest)."""
        sent, rest = [], []
        for key, instant in due:
            launched = self._launch_at_once(key, instant)
            if launched is None:
                rest.append((key, instant))
            else:
                sent.append(launched)
        return sent, rest

    async def finish(self, sent: list[Sent], rest: list[tuple[JobKey, datetime]]) -> None:
        """Finish the fires whose RunTask went out, then fire the others (triggers, catch-up)."""
        instant_answered = all_answered(launch for _, launch in sent)
        for count, (state, launch) in enumerate(sent, 1):
            try:
                self._after_sending(state, launch, instant_answered)
            except Exception as error:  # one job's fire must not end the loop for every job
                self._fault(state.key, "firing", error)
            if count % FIRES_PER_YIELD == 0:
                await asyncio.sleep(0)  # let status writes and watch events through now and then
        for count, (key, instant) in enumerate(rest, 1):
            try:
                self._fire(key, instant)
            except Exception as error:
                self._fault(key, "firing", error)
            if count % FIRES_PER_YIELD == 0:
                await asyncio.sleep(0)  # let the launches spawned so far send RunTask

    def _launch_at_once(self, key: JobKey, due: datetime) -> Sent | None:
        """Send RunTask for `due` now if it is simply on time; None leaves the fire to `_fire`."""
        state = self._jobs.get(key)
        if state is None or state.job is None:
            return None
        if not on_time(due, self._clock.now(), state.job.spec.starting_deadline_seconds):
            return None
        try:
            launch = self._lifecycle.launcher.launch_at_once(state, due)
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
            self._timetable.set(state, next_run)
        self._metrics.fires.inc()
        self._lifecycle.launcher.follow(state, launch, next_run=next_run, instant_answered=instant_answered)

    def _fire(self, key: JobKey, due: datetime) -> None:
        state = self._jobs.get(key)
        if state is None or state.job is None:
            return
        now = self._clock.now()
        deadline = state.job.spec.starting_deadline_seconds
        plan = catch_up(state.job.schedule, due, now, deadline)
        self._timetable.set(state, plan.next_due)
        self._metrics.fires.inc()
        if plan.missed:
            self._metrics.missed.inc(plan.missed)
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
            owed = self._lifecycle.notifier.owe(state, missed, run=iso_precise(plan.latest))
            if owed:
                self._report.write(key, owed)
        if plan.run is None:
            state.facts.last_schedule_time = plan.latest
            self._report.write(key, {"lastScheduleTime": iso_precise(plan.latest),
                                     "estimatedNextRun": iso_precise(plan.next_due) if plan.next_due else None})  # fmt: skip
            return
        started = self._lifecycle.launcher.start(state, plan.run, next_run=plan.next_due)
        self._background.spawn(started, name=f"fire:{key}", job=key, stage="launching")
