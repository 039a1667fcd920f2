"""A launch in flight: its RunTask calls already handed to AWS, their answers still to come.

Sending and handling the answer are two steps so that a burst can send every RunTask due at
one instant first and only then await answers, write status and post Events.
"""

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime

from ecs_scheduler.adapters.ecs import EcsApi
from ecs_scheduler.model.launch import LaunchFailure, RunTaskCall, RunTaskOutcome
from ecs_scheduler.runtime.runs import Run

logger = logging.getLogger(__name__)


@dataclass
class Launch:
    run: Run
    calls: list[RunTaskCall]
    pending: list[Awaitable[RunTaskOutcome]]
    sent_at: datetime
    """When the calls were handed over: the end of the scheduler's lateness."""


def hand_over(ecs: EcsApi, call: RunTaskCall) -> Awaitable[RunTaskOutcome]:
    """Send `call` now. A call that cannot even be handed over (the pool is shutting down)
    becomes a launch failure of this run instead of an error in the scheduler's loop."""
    try:
        return ecs.run_task(call)
    except Exception as error:
        logger.exception("RunTask %s could not be sent", call.client_token)
        refused: asyncio.Future[RunTaskOutcome] = asyncio.get_running_loop().create_future()
        refused.set_result(RunTaskOutcome(failures=(LaunchFailure(type(error).__name__, str(error)),)))
        return refused
