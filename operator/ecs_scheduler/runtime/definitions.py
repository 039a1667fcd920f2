"""Task definitions of container jobs: found or registered before a launch, pruned after runs.

The registrar does the AWS side (find by content hash, register, deregister); this module
decides when, and reports what failed on the job.
"""

import logging
from typing import Any

from ecs_scheduler.adapters.aws import ASSUME_ROLE_FAILED, AssumeRoleFailed
from ecs_scheduler.adapters.ecs import EcsError
from ecs_scheduler.core.taskdef import family_for, registration
from ecs_scheduler.runtime.context import RunContext
from ecs_scheduler.runtime.jobs import JobState
from ecs_scheduler.runtime.registrar import Registrar
from ecs_scheduler.runtime.status_shape import blocked

logger = logging.getLogger(__name__)


class TaskDefinitions:
    def __init__(self, ctx: RunContext, registrar: Registrar) -> None:
        self._ctx = ctx
        self._registrar = registrar

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
            message = f"spec.roleArn: {error.code}: {error.message}"
            blocked(self._ctx, state, ASSUME_ROLE_FAILED, message, dict(marks or {}))
            return False
        except EcsError as error:
            message = f"spec.container: could not register the task definition: {error}"
            blocked(self._ctx, state, "TaskDefinitionFailed", message, dict(marks or {}))
            return False
        state.registered = found.arn
        if state.facts.registered != found:
            # Whatever revision this job ran before is no longer wanted once its runs end.
            state.facts.stale_revisions = True
            state.facts.registered = found
            self._ctx.report.write(
                state.key, {"taskDefinitionArn": found.arn, "taskDefinitionHash": found.content_hash}
            )
        self._ctx.background.spawn(self.prune_revisions(state), name=f"prune:{state.key}")
        return True

    def register_soon(self, state: JobState) -> None:
        """Resolve a container job's task definition now, so that its first fire need not wait."""
        if state.job is not None and state.job.spec.container is not None:
            self._ctx.background.spawn(
                self.ensure_registered(state),
                name=f"register:{state.key}",
                job=state.key,
                stage="registering",
            )

    async def prune_revisions(self, state: JobState) -> None:
        """Deregister the job's other revisions once none of its runs in flight may use them."""
        if not state.facts.stale_revisions or state.registered is None:
            return
        if any(run.task_definition != state.registered for run in self._ctx.tracker.runs_of(state.key)):
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
