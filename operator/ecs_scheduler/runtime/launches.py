"""A launch in flight: its RunTask calls already handed to AWS, their answers still to come.

Sending and handling the answer are two steps so that a burst can send every RunTask due at
one instant first and only then await answers, write status and post Events.
"""

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ecs_scheduler.adapters.ecs import EcsApi
from ecs_scheduler.model.launch import LaunchFailure, RunTaskCall, RunTaskOutcome
from ecs_scheduler.runtime.runs import Run

logger = logging.getLogger(__name__)


InstantAnswered = asyncio.Future[list[RunTaskOutcome | BaseException]]


@dataclass
class Launch:
    run: Run
    calls: list[RunTaskCall]
    pending: list[asyncio.Future[RunTaskOutcome]]
    sent_at: datetime
    """When the calls were handed over: the end of the scheduler's lateness."""


def hand_over(ecs: EcsApi, call: RunTaskCall) -> asyncio.Future[RunTaskOutcome]:
    """Send `call` now. A call that cannot even be handed over (the pool is shutting down)
    becomes a launch failure of this run instead of an error in the scheduler's loop."""
    try:
        return asyncio.ensure_future(ecs.run_task(call))
    except Exception as error:
        logger.exception("RunTask %s could not be sent", call.client_token)
        refused: asyncio.Future[RunTaskOutcome] = asyncio.get_running_loop().create_future()
        refused.set_result(RunTaskOutcome(failures=(LaunchFailure(type(error).__name__, str(error)),)))
        return refused


def all_answered(launches: Iterable[Launch]) -> InstantAnswered:
    """A future that resolves once every RunTask of `launches` has its answer (or its error).

    The launches of one instant record their runs only after this: status patches and Events
    run in threads of the same process, and started while later RunTasks of a burst still wait
    for the AWS pool, they would compete with those sends for the interpreter. Waiters must
    shield it: cancelling the gathered future would cancel the RunTasks themselves.
    """
    return asyncio.gather(
        *(future for launch in launches for future in launch.pending), return_exceptions=True
    )
