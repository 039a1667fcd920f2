"""ECS calls paced to the account's rate limits: an EcsApi in front of the boto3 one.

ECS throttles each API per account and Region with a token bucket (RunTask: burst 100, 40 per
second). Sending a burst of thousands of RunTasks at once and letting botocore retry the
throttled ones loses runs once retries run out, and the retry storm throttles every other ECS
client of the account. So each (account, region, API) has a Pacer (core/pacing.py) at the configured
limit, and RunTasks beyond it wait in a LaunchQueue (namespaces share the rate fairly across
instants, earliest instant first within a namespace) instead of being sent. A queued launch is never failed for waiting; only one that would
start past its job's startingDeadlineSeconds is not sent, and that run is recorded as missed.

botocore's "adaptive" retry mode was considered: its limiter sleeps inside the calling thread
(holding one of the pool's threads per waiting call), knows nothing of instants or namespaces,
and starts unlimited until the first throttle, so a burst still meets a wall of throttles.
"""

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ecs_scheduler.adapters.ecs import DESCRIBE_BATCH, EcsApi
from ecs_scheduler.core.launch_queue import LaunchQueue
from ecs_scheduler.core.pacing import MARGIN_SECONDS, Pacer
from ecs_scheduler.model.aws import AwsScope
from ecs_scheduler.model.config import RateLimit
from ecs_scheduler.model.launch import LaunchFailure, RunTaskCall, RunTaskOutcome
from ecs_scheduler.runtime.clock import Clock
from ecs_scheduler.runtime.metrics import Metrics

logger = logging.getLogger(__name__)

SPARE_STEP = 0.05
"""Seconds a backfill call waits for spare budget before the queue of scheduled calls is looked
at again."""

MISSED = "MissedDeadline"
"""The launch failure of a queued RunTask that was not sent because its deadline had passed."""


@dataclass
class _Waiting:
    call: RunTaskCall
    answer: asyncio.Future[RunTaskOutcome]
    since: float


@dataclass
class _Lane:
    """One (account, region, API) bucket: its pacer, and for RunTask the launches waiting their turn."""

    pacer: Pacer
    queue: LaunchQueue[_Waiting] = field(default_factory=LaunchQueue)
    behind: LaunchQueue[_Waiting] = field(default_factory=LaunchQueue)
    """Backfill calls: sent only when `queue` is empty and the bucket is all but full."""
    draining: asyncio.Task[None] | None = None


class PacedEcs:
    """EcsApi that keeps every call within the configured per-API limits."""

    def __init__(
        self,
        inner: EcsApi,
        *,
        limits: dict[str, RateLimit],
        clock: Clock,
        metrics: Metrics,
        default_region: str | None = None,
        ticks: Callable[[], float] = time.monotonic,
        margin: float = MARGIN_SECONDS,
    ) -> None:
        self._margin = margin
        self._inner = inner
        self._default_region = default_region
        self._limits = limits
        self._clock = clock
        self._metrics = metrics
        self._ticks = ticks
        self._lanes: dict[tuple[str, str | None, str], _Lane] = {}
        self._definitions_read: set[tuple[AwsScope, str]] = set()
        """Task definitions already read: the inner adapter answers those from its cache."""
        self._loop: asyncio.AbstractEventLoop | None = None
        metrics.launch_backlog.count = self.backlog

    def backlog(self) -> dict[str, int]:
        """RunTask calls waiting, per namespace, over every account and Region."""
        total: dict[str, int] = {}
        for lane in list(self._lanes.values()):
            for queue in (lane.queue, lane.behind):
                for namespace, count in queue.backlog().items():
                    total[namespace] = total.get(namespace, 0) + count
        return total

    def _lane(self, scope: AwsScope, api: str) -> _Lane:
        # ECS's bucket is the account's in that Region: roles of one account share it.
        key = (scope.account, scope.region or self._default_region, api)
        lane = self._lanes.get(key)
        if lane is None:
            limit = self._limits[api]
            lane = self._lanes[key] = _Lane(Pacer(rate=limit.rate, burst=limit.burst, margin=self._margin))
        return lane

    # -- Throttles ECS answered anyway --------------------------------------------------------

    def throttled(self, operation: str, scope: AwsScope) -> None:
        """ECS throttled a call (told from a pool thread, once per throttled attempt)."""
        self._metrics.throttled.labels(operation).inc()
        if self._loop is not None and operation in self._limits:
            self._loop.call_soon_threadsafe(self._slow_down, scope, operation)

    def _slow_down(self, scope: AwsScope, operation: str) -> None:
        pacer = self._lane(scope, operation).pacer
        if pacer.throttled(self._ticks()):
            logger.warning(
                "ECS throttled %s in %s: pacing it at %.1f/s (limit %.1f/s)",
                operation, scope.describe(), pacer.current_rate, pacer.rate,
            )  # fmt: skip
            self._metrics.paced_rate.labels(operation).set(pacer.current_rate)

    # -- RunTask: queued when over the limit --------------------------------------------------

    def run_task(self, call: RunTaskCall) -> Awaitable[RunTaskOutcome]:
        self._loop = asyncio.get_running_loop()
        lane = self._lane(call.scope, "RunTask")
        if not call.behind and not lane.queue and lane.pacer.take(self._ticks()):
            return self._inner.run_task(call)  # within the limit: sent at once
        answer: asyncio.Future[RunTaskOutcome] = self._loop.create_future()
        queue = lane.behind if call.behind else lane.queue
        queue.push(call.scheduled or self._clock.now(), call.namespace, _Waiting(call, answer, self._ticks()))
        self._metrics.launch_queue.inc()
        if lane.draining is None or lane.draining.done():
            lane.draining = self._loop.create_task(self._drain(lane), name="launch-queue")
        return answer

    async def _drain(self, lane: _Lane) -> None:
        while lane.queue or lane.behind:
            if not lane.queue:
                await self._send_behind(lane)
                continue
            wait = lane.pacer.wait(self._ticks())
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            waiting = lane.queue.pop()
            self._metrics.launch_queue.dec()
            queued = self._ticks() - waiting.since
            deadline = waiting.call.deadline
            if deadline is not None and self._clock.now() > deadline:
                self._miss(waiting, queued, deadline)
                continue
            lane.pacer.take(self._ticks())
            self._metrics.launch_wait.observe(queued)
            self._forward(waiting, queued)

    async def _send_behind(self, lane: _Lane) -> None:
        """One backfill call, once the bucket has budget to spare. It waits in short steps: a
        scheduled call that queues meanwhile is served first, within one step."""
        wait = lane.pacer.spare_wait(self._ticks())
        if wait > 0:
            await asyncio.sleep(min(wait, SPARE_STEP))
            return
        waiting = lane.behind.pop()
        self._metrics.launch_queue.dec()
        lane.pacer.take(self._ticks())
        queued = self._ticks() - waiting.since
        self._forward(waiting, queued)

    def _forward(self, waiting: _Waiting, queued: float) -> None:
        sent = asyncio.ensure_future(self._inner.run_task(waiting.call))

        def answered(done: asyncio.Future[RunTaskOutcome]) -> None:
            if waiting.answer.done():
                return
            if done.exception() is not None:
                waiting.answer.set_exception(done.exception())  # type: ignore[arg-type]
            else:
                waiting.answer.set_result(dataclasses.replace(done.result(), queued_seconds=queued))

        sent.add_done_callback(answered)

    def _miss(self, waiting: _Waiting, queued: float, deadline: datetime) -> None:
        scheduled = waiting.call.scheduled
        allowed = (deadline - scheduled).total_seconds() if scheduled else 0
        detail = (
            f"queued {queued:.0f} s behind the ECS RunTask rate limit, past startingDeadlineSeconds "
            f"({allowed:.0f}s): not sent"
        )
        failure = LaunchFailure(MISSED, detail)
        if not waiting.answer.done():
            waiting.answer.set_result(RunTaskOutcome(failures=(failure,), queued_seconds=queued))

    # -- Everything else: waits for a token, no queue order needed ----------------------------

    async def _turn(self, scope: AwsScope, api: str) -> None:
        pacer = self._lane(scope, api).pacer
        while True:  # a token per call; waiters may overtake each other (no order needed here)
            if pacer.take(self._ticks()):
                return
            await asyncio.sleep(pacer.wait(self._ticks()))

    async def describe_tasks(
        self, *, cluster: str, scope: AwsScope, arns: list[str], tags: bool = False
    ) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for start in range(0, len(arns), DESCRIBE_BATCH):  # a token per DescribeTasks call
            await self._turn(scope, "DescribeTasks")
            batch = arns[start : start + DESCRIBE_BATCH]
            found += await self._inner.describe_tasks(cluster=cluster, scope=scope, arns=batch, tags=tags)
        return found

    async def stop_task(self, *, cluster: str, scope: AwsScope, arn: str, reason: str) -> None:
        await self._turn(scope, "StopTask")
        await self._inner.stop_task(cluster=cluster, scope=scope, arn=arn, reason=reason)

    async def list_tasks(self, *, cluster: str, scope: AwsScope, started_by: str) -> list[str]:
        await self._turn(scope, "ListTasks")
        return await self._inner.list_tasks(cluster=cluster, scope=scope, started_by=started_by)

    async def essential_containers(
        self, *, scope: AwsScope, task_definition_arn: str
    ) -> frozenset[str] | None:
        if (scope, task_definition_arn) not in self._definitions_read:
            await self._turn(scope, "DescribeTaskDefinition")
            self._definitions_read.add((scope, task_definition_arn))
        return await self._inner.essential_containers(scope=scope, task_definition_arn=task_definition_arn)

    async def log_configurations(
        self, *, scope: AwsScope, task_definition_arn: str
    ) -> dict[str, dict[str, Any] | None] | None:
        if (scope, task_definition_arn) not in self._definitions_read:
            await self._turn(scope, "DescribeTaskDefinition")
            self._definitions_read.add((scope, task_definition_arn))
        return await self._inner.log_configurations(scope=scope, task_definition_arn=task_definition_arn)
