"""Runs on demand (ScheduledEcsJobRun): what one asks for, worked out without I/O.

- the spec a run launches with: the job's, with the run's environment, command and task count
  on top (checked afterwards exactly like a job's spec, so the tenant guard sees the overrides);
- the instants of a backfill: the job's schedule between `from` and `to`, at most 1,000;
- which of them to skip: those the job's history or runs in flight already have, unless forced.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from ecs_scheduler.core.errors import SpecError
from ecs_scheduler.core.schedule import Schedule
from ecs_scheduler.model.run_request import MAX_BACKFILL_INSTANTS, Backfill, ScheduledEcsJobRunSpec
from ecs_scheduler.model.spec import ContainerOverride, Overrides, ScheduledEcsJobSpec

_JUST_BEFORE = timedelta(microseconds=1)


def run_spec(job: ScheduledEcsJobSpec, run: ScheduledEcsJobRunSpec) -> ScheduledEcsJobSpec:
    """The job's spec with this run's changes. Raises SpecError (naming the run's field) when
    the run does not say which container its environment or command are for."""
    update: dict[str, object] = {}
    if run.task_count is not None:
        if job.trigger is not None:
            raise SpecError("spec.taskCount", "the job has a trigger: its queue decides how many tasks start")
        update["task_count"] = run.task_count
    changes = run.overrides
    if changes is not None and (changes.environment or changes.command is not None):
        update["overrides"] = _with_container_changes(
            job, changes.container, changes.environment, changes.command
        )
    return job.model_copy(update=update) if update else job


def _with_container_changes(
    job: ScheduledEcsJobSpec, container: str | None, environment: dict[str, str], command: list[str] | None
) -> Overrides:
    overrides = job.overrides or Overrides()
    name = container or _only_container(job, overrides)
    entries = list(overrides.container_overrides)
    index = next((i for i, entry in enumerate(entries) if entry.name == name), None)
    base = entries[index] if index is not None else ContainerOverride(name=name)
    changed = base.model_copy(
        update={
            "environment": {**base.environment, **environment},
            "command": command if command is not None else base.command,
        }
    )
    if index is None:
        entries.append(changed)
    else:
        entries[index] = changed
    return overrides.model_copy(update={"container_overrides": entries})


def _only_container(job: ScheduledEcsJobSpec, overrides: Overrides) -> str:
    if job.container is not None:
        return job.container.name
    named = {entry.name for entry in overrides.container_overrides}
    if len(named) == 1:
        return named.pop()
    raise SpecError(
        "spec.overrides.container",
        "say which container the environment and command are for: the job's task definition "
        "is not known to the operator, and the job overrides "
        + (f"{len(named)} containers" if named else "none"),
    )


def backfill_instants(schedule: Schedule, backfill: Backfill) -> list[datetime]:
    """The schedule's instants from `from` to `to`, both included. Raises SpecError above
    MAX_BACKFILL_INSTANTS (before computing more than one past it)."""
    instants: list[datetime] = []
    at = schedule.next_after(backfill.from_ - _JUST_BEFORE)
    while at is not None and at <= backfill.to:
        if len(instants) == MAX_BACKFILL_INSTANTS:
            raise SpecError(
                "spec.backfill",
                f"from {backfill.from_.isoformat()} to {backfill.to.isoformat()} covers more than "
                f"{MAX_BACKFILL_INSTANTS} instants of the schedule (the next is {at.isoformat()}): "
                "split it into several runs",
            )
        instants.append(at)
        at = schedule.next_after(at)
    if not instants:
        raise SpecError("spec.backfill", "the schedule has no instant in this range")
    return instants


def already_run(instants: Iterable[datetime], known: Iterable[datetime]) -> set[datetime]:
    """Those of `instants` the job has a record or a run in flight for."""
    seen = set(known)
    return {instant for instant in instants if instant in seen}


def run_token_name(name: str, uid: str) -> str:
    """What a run now's clientTokens are derived from: unique to this object, the same after a
    restart or a failover (so a repeat gets ECS's deduplicated answer)."""
    return f"{name}.{uid[:8]}" if uid else name
