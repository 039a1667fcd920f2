"""Runs from start to end, put together: the parts the scheduler hands a job's runs to.

The scheduler decides *when* (and which instant); the parts composed here do the rest, each
in a module of its own (docs/architecture.md): `launcher` (policy, trigger, RunTask, answers),
`following` (DescribeTasks and task events), `definitions` (container jobs' task definitions),
and behind them the conclusion of runs, their records, retries and orphans after a restart.
This module wires them once, resumes runs from status and looks for orphans once when asked.
"""

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from ecs_scheduler.adapters.ecs import EcsApi
from ecs_scheduler.adapters.triggers import TriggerSource
from ecs_scheduler.core.tasks import TaskReport
from ecs_scheduler.model.config import OperatorConfig
from ecs_scheduler.model.job import JobKey
from ecs_scheduler.runtime.background import Background
from ecs_scheduler.runtime.clock import Clock
from ecs_scheduler.runtime.conclusion import Conclusion
from ecs_scheduler.runtime.context import RunContext
from ecs_scheduler.runtime.definitions import TaskDefinitions
from ecs_scheduler.runtime.following import Following
from ecs_scheduler.runtime.jobs import JobState, Reporter
from ecs_scheduler.runtime.launching import Launcher
from ecs_scheduler.runtime.metrics import Metrics
from ecs_scheduler.runtime.notifier import Notifier
from ecs_scheduler.runtime.orphans import adopt_orphans
from ecs_scheduler.runtime.records import RunRecords
from ecs_scheduler.runtime.registrar import Registrar
from ecs_scheduler.runtime.retries import Retries
from ecs_scheduler.runtime.runs import Run
from ecs_scheduler.runtime.tracker import Tracker
from ecs_scheduler.runtime.triggering import Triggers

logger = logging.getLogger(__name__)


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
        self.notifier = notifier
        self.tracker = Tracker(ecs, metrics)
        self._ctx = ctx = RunContext(
            config=config, ecs=ecs, report=reporter, clock=clock, metrics=metrics, background=background,
            jobs=jobs, planned=planned, notifier=notifier, tracker=self.tracker,
        )  # fmt: skip
        records = RunRecords(ctx)
        self.definitions = TaskDefinitions(ctx, registrar)
        self.conclusion = conclusion = Conclusion(ctx, records, self.definitions)
        self.following = Following(ctx, conclusion)
        self.launcher = Launcher(
            ctx, records=records, definitions=self.definitions, following=self.following,
            conclusion=conclusion, triggers=Triggers(ctx, triggers, self.following),
        )  # fmt: skip
        self.retries = Retries(
            ctx, launcher=self.launcher, conclusion=conclusion, definitions=self.definitions
        )
        self.orphan_check_due = False

    async def track(self, interval: float) -> None:
        """Sweep every tracked task forever; one interval after becoming active, look once for
        tasks nobody recorded."""
        await self.following.track(interval, look_for_orphans=self._orphans_if_due)

    def _orphans_if_due(self) -> Any:
        if not self.orphan_check_due:
            return None
        self.orphan_check_due = False
        return adopt_orphans(self._ctx)

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
                self.retries.later(run)
