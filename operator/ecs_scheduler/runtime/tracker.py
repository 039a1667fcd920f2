"""One tracker for every job: follows each started task to STOPPED.

Two sources feed it, both through the task state machine (core.runstate): ECS's event stream,
when the operator reads one (`apply_events`), and batched DescribeTasks (`refresh`). Nothing is
polled per job: a sweep groups the tasks not yet stopped by scope and cluster and describes
them 100 at a time. A task ECS no longer returns (it forgets stopped tasks after about an
hour) is UNKNOWN after MISSING_SWEEPS sweeps in a row: never a success.
"""

import asyncio
import logging
import time
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from ecs_scheduler.adapters.ecs import EcsApi, EcsError
from ecs_scheduler.core.runstate import Observation
from ecs_scheduler.core.taskevents import TaskEvent, cluster_name, in_order
from ecs_scheduler.core.tasks import TaskReport, TaskVerdict, task_report, task_verdict
from ecs_scheduler.model.aws import AwsScope
from ecs_scheduler.model.job import JobKey
from ecs_scheduler.runtime.metrics import Metrics
from ecs_scheduler.runtime.runs import Run

logger = logging.getLogger(__name__)

_RUNS_PER_YIELD = 100
"""A sweep over thousands of runs lets the event loop run between chunks of this many."""

ENDED_REMEMBERED = 20_000
"""Tasks of runs that ended, remembered so that an event repeated after the end (EventBridge
delivers at least once) counts as stale, not as foreign (which suggests a misconfigured rule)."""


@dataclass
class EventsApplied:
    """What a batch of task events did."""

    changed: list[Run] = field(default_factory=list)
    """Runs whose tasks changed (in the order first changed)."""
    applied: int = 0
    stale: int = 0
    """Repeats, or older than what was known."""
    foreign: int = 0
    """Not a task of a run in flight here (another starter, cluster, or an ended run)."""
    jobs: set[JobKey] = field(default_factory=set)
    """Jobs an event spoke of: its message may go once their status writes have landed."""


class Tracker:
    def __init__(self, ecs: EcsApi, metrics: Metrics) -> None:
        self._ecs = ecs
        self._metrics = metrics
        self._runs: dict[JobKey, list[Run]] = {}
        self._index: dict[str, Run] = {}
        """Task ARN -> run, for events; rebuilt when an event names a task it does not know."""
        self._ended: OrderedDict[str, None] = OrderedDict()
        """Task ARNs of runs no longer tracked, the latest ENDED_REMEMBERED."""
        # Counted when scraped: keeping a running total in step on every change cost O(runs).
        metrics.active_tasks.set_function(self._unfinished_tasks)

    def _unfinished_tasks(self) -> float:
        """Called from the metrics server's thread, while the event loop may change the runs."""
        for _ in range(3):
            try:
                return float(
                    sum(len(run.unfinished()) for runs in list(self._runs.values()) for run in list(runs))
                )
            except RuntimeError:  # a dict changed size under us: count again
                continue
        return float("nan")

    def add(self, run: Run) -> None:
        self._runs.setdefault(run.key, []).append(run)

    def remove(self, run: Run) -> None:
        for arn in run.reports:
            self._ended[arn] = None
        while len(self._ended) > ENDED_REMEMBERED:
            self._ended.popitem(last=False)
        runs = self._runs.get(run.key, [])
        if run in runs:
            runs.remove(run)
        if not runs:
            self._runs.pop(run.key, None)

    def forget(self, key: JobKey) -> None:
        self._runs.pop(key, None)

    def runs_of(self, key: JobKey) -> list[Run]:
        return list(self._runs.get(key, []))

    def all_runs(self) -> list[Run]:
        return [run for runs in self._runs.values() for run in runs]

    def tracked_arns(self) -> set[str]:
        return {arn for run in self.all_runs() for arn in run.reports}

    async def refresh(self, runs: Iterable[Run]) -> list[Run]:
        """Describe the unfinished tasks of `runs`; return the runs whose tasks changed."""
        groups: dict[tuple[AwsScope, str], list[Run]] = defaultdict(list)
        for run in runs:
            if run.unfinished():
                groups[(run.scope, run.cluster)].append(run)
        changed: list[Run] = []
        for (scope, cluster), members in groups.items():
            arns = [arn for run in members for arn in run.unfinished()]
            try:
                described = await self._ecs.describe_tasks(cluster=cluster, scope=scope, arns=arns)
            except EcsError as error:  # keep the tasks and try again next sweep
                logger.warning("DescribeTasks of %s in %s failed: %s", cluster, scope.describe(), error)
                continue
            self._metrics.describe_calls.inc(-(-len(arns) // 100))
            reports = {report.arn: report for report in map(task_report, described)}
            versions = {str(raw.get("taskArn")): raw.get("version") for raw in described}
            for count, run in enumerate(members, 1):
                if _apply(run, reports, versions, self._now()):
                    changed.append(run)
                if count % _RUNS_PER_YIELD == 0:
                    await asyncio.sleep(0)  # a fire due meanwhile goes first
        return changed

    def apply_events(self, events: list[TaskEvent], *, started_by: str) -> EventsApplied:
        """Apply task events (any order, repeats included) to the runs in flight."""
        result = EventsApplied()
        rebuilt = False
        for event in in_order(events):
            if event.started_by != started_by:
                result.foreign += 1
                continue
            run = self._owner(event.task_arn)
            if run is None and not rebuilt:  # a task launched since the index was built
                self._index, rebuilt = self._owners(), True
                run = self._owner(event.task_arn)
            if run is None and event.task_arn in self._ended:
                result.stale += 1  # a repeat of an event about a run that has ended
                continue
            if run is None or cluster_name(event.cluster_arn) != cluster_name(run.cluster):
                result.foreign += 1
                continue
            run.heard.add(event.task_arn)
            result.jobs.add(run.key)
            step = run.observe(event.task_arn, Observation(event.report, event.version))
            if step.stale:
                result.stale += 1
                continue
            result.applied += 1
            if step.recorded and run not in result.changed:
                result.changed.append(run)
        return result

    def silent(self, grace: float) -> list[Run]:
        """Runs with a task that no event has spoken of for `grace` seconds since it was last
        described (or first seen here): described promptly instead of waiting for the sweep."""
        now = self._now()
        found = []
        for run in self.all_runs():
            for arn in run.unfinished():
                if arn in run.heard:
                    continue
                if now - run.noticed.setdefault(arn, now) >= grace:
                    found.append(run)
                    break
        return found

    def _owner(self, arn: str) -> Run | None:
        """The run in flight that started task `arn` (the index may be stale: checked)."""
        run = self._index.get(arn)
        if run is None or arn not in run.reports:
            return None
        return run if any(r is run for r in self._runs.get(run.key, ())) else None

    def _owners(self) -> dict[str, Run]:
        return {arn: run for runs in self._runs.values() for run in runs for arn in run.reports}

    @staticmethod
    def _now() -> float:
        return time.monotonic()

    async def verdicts(self, run: Run) -> list[TaskVerdict]:
        """The verdict of every task of a finished run (essential containers read per revision)."""
        verdicts = []
        for report in run.reports.values():
            essentials = None
            if report.task_definition_arn:
                essentials = await self._ecs.essential_containers(
                    scope=run.scope, task_definition_arn=report.task_definition_arn
                )
            verdict = task_verdict(report, essentials)
            assert verdict is not None, "only finished runs have verdicts"
            verdicts.append(verdict)
        return verdicts


def _apply(run: Run, reports: dict[str, TaskReport], versions: dict[str, object], now: float) -> bool:
    changed = False
    for arn in run.unfinished():
        version = versions.get(arn)
        step = run.observe(arn, Observation(reports.get(arn), version if isinstance(version, int) else None))
        run.noticed[arn] = now
        changed = changed or step.recorded
    return changed
