"""After a restart: this operator's tasks that no status mentions, found and followed.

A process killed between RunTask and the status write leaves tasks no status records (and that
were not relaunched within the deadline). Once after becoming active, every place the jobs run
is listed by startedBy, and such tasks are tracked as runs again.
"""

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ecs_scheduler.adapters.ecs import EcsError
from ecs_scheduler.core.arns import same_cluster_key
from ecs_scheduler.core.plan import job_tag_value
from ecs_scheduler.core.status import iso, parse_instant
from ecs_scheduler.core.tasks import TaskReport, task_report
from ecs_scheduler.model import names
from ecs_scheduler.model.job import JobKey
from ecs_scheduler.runtime.context import RunContext
from ecs_scheduler.runtime.jobs import JobState
from ecs_scheduler.runtime.runs import Run
from ecs_scheduler.runtime.status_shape import runs_patch

logger = logging.getLogger(__name__)


async def adopt_orphans(ctx: RunContext) -> None:
    """Find this operator's tasks that no status mentions and track them as runs."""
    # A cluster named by name in one job and by ARN in another is listed once.
    places = {
        (s.scope, same_cluster_key(s.job.spec.cluster or ctx.config.default_cluster,
                                   s.scope.account or ctx.config.account_id))
        for s in ctx.jobs.values()
        if s.job is not None
    }  # fmt: skip
    tracked = ctx.tracker.tracked_arns()
    for scope, cluster in sorted(places, key=str):
        try:
            arns = await ctx.ecs.list_tasks(cluster=cluster, scope=scope, started_by=ctx.config.started_by)
            fresh = [arn for arn in arns if arn not in tracked]
            described = await ctx.ecs.describe_tasks(cluster=cluster, scope=scope, arns=fresh, tags=True)
        except EcsError as error:
            logger.warning("could not list tasks of %s in %s: %s", cluster, scope.describe(), error)
            continue
        by_tag = {job_tag_value(str(key)): key for key in ctx.jobs}
        for (key, instant), tasks in _group_by_run(described, by_tag).items():
            state = ctx.jobs.get(key)
            if state is None or not _unrecorded(state, instant, ctx.tracker.runs_of(key)):
                continue
            run = Run(key, instant, cluster, scope, reports={t.arn: t for t in tasks})
            logger.info("adopting %d untracked task(s) of %s for %s", len(tasks), key, iso(instant))
            state.facts.latest_run = run
            ctx.tracker.add(run)
            ctx.report.write(key, runs_patch(ctx, state))


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
