"""Stand-ins for AWS and Kubernetes that answer at once and count what they are asked.

The benchmark measures the scheduler and the launch path, not AWS: RunTask answers instantly
and records when it was called; DescribeTasks says every task stopped with exit code 0, so runs
end at the first sweep; status writes and events are counted and dropped.
"""

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Awaitable
from typing import Any

from ecs_scheduler.model import names
from ecs_scheduler.model.aws import AwsScope
from ecs_scheduler.model.launch import RunTaskCall, RunTaskOutcome

_ids = itertools.count()
_TASK_ARN = "arn:aws:ecs:us-east-1:123456789012:task/bench/"


class InstantEcs:
    def __init__(self) -> None:
        self.log: list[tuple[float, RunTaskCall]] = []  # (time RunTask was called, the call)
        self.calls: Counter[str] = Counter()

    def run_task(self, call: RunTaskCall) -> Awaitable[RunTaskOutcome]:
        # Like the real adapter: the call is handed over (here: answered) at once. Only the time
        # and the call are kept; their tags are read after the measurement, so that the
        # stand-in's own work adds as little as possible to the lateness of either engine.
        self.log.append((time.time(), call))
        self.calls["RunTask"] += 1
        arns = tuple(f"{_TASK_ARN}{next(_ids):032x}" for _ in range(call.count))
        answer: asyncio.Future[RunTaskOutcome] = asyncio.get_running_loop().create_future()
        answer.set_result(RunTaskOutcome(task_arns=arns, task_statuses=("PROVISIONING",) * len(arns)))
        return answer

    @property
    def sent(self) -> list[tuple[float, str, str]]:
        """(time RunTask was called, scheduled-at tag, job tag) of every RunTask logged."""
        result = []
        for at, call in self.log:
            tags = {t["key"]: t["value"] for t in call.request.get("tags", [])}
            result.append((at, tags.get(names.SCHEDULED_AT_TAG, ""), tags.get(names.JOB_TAG, "")))
        return result

    async def describe_tasks(
        self, *, cluster: str, scope: AwsScope, arns: list[str], tags: bool = False
    ) -> list[dict[str, Any]]:
        self.calls["DescribeTasks"] += -(-len(arns) // 100)
        return [
            {"taskArn": a, "lastStatus": "STOPPED", "stopCode": "EssentialContainerExited",
             "containers": [{"name": "app", "exitCode": 0}]}
            for a in arns
        ]  # fmt: skip

    async def stop_task(self, *, cluster: str, scope: AwsScope, arn: str, reason: str) -> None:
        self.calls["StopTask"] += 1

    async def list_tasks(self, *, cluster: str, scope: AwsScope, started_by: str) -> list[str]:
        self.calls["ListTasks"] += 1
        return []

    async def essential_containers(
        self, *, scope: AwsScope, task_definition_arn: str
    ) -> frozenset[str] | None:
        return frozenset({"app"})


class NoTaskDefinitions:
    """The benchmark's jobs name task definitions: nothing is registered."""

    async def find(self, *, scope: AwsScope, family: str, content_hash: str) -> str | None:
        raise AssertionError("the benchmark has no container jobs")

    async def register(self, *, scope: AwsScope, request: dict[str, Any]) -> str:
        raise AssertionError("the benchmark has no container jobs")

    async def active(self, *, scope: AwsScope, family: str) -> list[str]:
        return []

    async def deregister(self, *, scope: AwsScope, arn: str) -> None:
        raise AssertionError("the benchmark has no container jobs")


class CountingKube:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    async def patch_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        self.calls["patch_status"] += 1

    async def create_event(self, namespace: str, event: dict[str, Any]) -> None:
        self.calls["create_event"] += 1

    async def patch_event(self, namespace: str, name: str, patch: dict[str, Any]) -> None:
        self.calls["patch_event"] += 1

    async def close(self) -> None:
        pass
