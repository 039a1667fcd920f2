"""One tracker for every job: follows each started task to STOPPED with batched DescribeTasks.

Nothing is polled per job. Each sweep groups the tasks not yet stopped by region and cluster
and describes them 100 at a time. A task ECS no longer returns (it forgets stopped tasks after
about an hour) is marked UNKNOWN after MISSING_SWEEPS sweeps in a row: never a success.
"""

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable

from ecs_scheduler.adapters.ecs import EcsApi, EcsError
from ecs_scheduler.core.tasks import TaskReport, TaskVerdict, task_report, task_verdict, unknown_task
from ecs_scheduler.model.aws import AwsScope
from ecs_scheduler.model.job import JobKey
from ecs_scheduler.runtime.metrics import Metrics
from ecs_scheduler.runtime.runs import Run

logger = logging.getLogger(__name__)

MISSING_SWEEPS = 2
"""A task just started may not be visible yet; absent twice in a row means ECS forgot it."""

_RUNS_PER_YIELD = 100
"""A sweep over thousands of runs lets the event loop run between chunks of this many."""


class Tracker:
    def __init__(self, ecs: EcsApi, metrics: Metrics) -> None:
        self._ecs = ecs
        self._metrics = metrics
        self._runs: dict[JobKey, list[Run]] = {}
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
            for count, run in enumerate(members, 1):
                if _apply(run, reports):
                    changed.append(run)
                if count % _RUNS_PER_YIELD == 0:
                    await asyncio.sleep(0)  # a fire due meanwhile goes first
        return changed

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


def _apply(run: Run, reports: dict[str, TaskReport]) -> bool:
    changed = False
    for arn in run.unfinished():
        report = reports.get(arn)
        if report is None:
            run.missing[arn] = run.missing.get(arn, 0) + 1
            if run.missing[arn] >= MISSING_SWEEPS:
                run.reports[arn] = unknown_task(arn)
                changed = True
            continue
        run.missing.pop(arn, None)
        if report != run.reports[arn]:
            run.reports[arn] = report
            changed = True
    return changed
