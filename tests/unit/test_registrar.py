"""Registrations of container jobs' task definitions: once per distinct spec, found again, pruned."""

import asyncio
from typing import Any

import pytest

from ecs_scheduler.core.taskdef import Registered, hash_of, registration
from ecs_scheduler.model.aws import AwsScope
from ecs_scheduler.model.job import JobKey
from ecs_scheduler.model.spec import ContainerSpec
from ecs_scheduler.runtime.metrics import Metrics
from ecs_scheduler.runtime.registrar import Registrar

SCOPE = AwsScope("eu-west-1")
KEY = JobKey("team", "nightly")


class TaskDefinitions:
    """In-memory ECS task definitions, counting the calls."""

    def __init__(self) -> None:
        self.revisions: list[tuple[str, str, bool]] = []  # (arn, content hash, active)
        self.calls: list[str] = []

    def _arn(self, family: str, revision: int) -> str:
        return f"arn:aws:ecs:eu-west-1:123456789012:task-definition/{family}:{revision}"

    async def find(self, *, scope: AwsScope, family: str, content_hash: str) -> str | None:
        self.calls.append("find")
        await asyncio.sleep(0)
        return next((a for a, h, active in reversed(self.revisions) if h == content_hash and active), None)

    async def register(self, *, scope: AwsScope, request: dict[str, Any]) -> str:
        self.calls.append("register")
        await asyncio.sleep(0)
        arn = self._arn(request["family"], len(self.revisions) + 1)
        self.revisions.append((arn, hash_of(request), True))
        return arn

    async def active(self, *, scope: AwsScope, family: str) -> list[str]:
        self.calls.append("active")
        return [a for a, _, active in reversed(self.revisions) if active]

    async def deregister(self, *, scope: AwsScope, arn: str) -> None:
        self.calls.append("deregister")
        self.revisions = [(a, h, active and a != arn) for a, h, active in self.revisions]


def request(image: str = "busybox:1") -> dict[str, Any]:
    return registration(ContainerSpec(image=image, memory=64), key=KEY, region="eu-west-1")


def test_replicas_of_one_spec_register_once_and_a_restart_finds_it() -> None:
    api = TaskDefinitions()

    async def scenario() -> list[Registered]:
        registrar = Registrar(api, Metrics())
        together = await asyncio.gather(
            *(registrar.resolve(scope=SCOPE, request=request(), remembered=None) for _ in range(5))
        )
        restarted = Registrar(api, Metrics())  # a new process: nothing known but ECS
        return [*together, await restarted.resolve(scope=SCOPE, request=request(), remembered=None)]

    found = asyncio.run(scenario())
    assert len({r.arn for r in found}) == 1
    assert api.calls == ["find", "register", "find"]


def test_a_remembered_revision_with_the_same_hash_costs_no_call() -> None:
    api = TaskDefinitions()
    remembered = Registered("arn:aws:ecs:eu-west-1:123456789012:task-definition/x:7", hash_of(request()))
    found = asyncio.run(
        Registrar(api, Metrics()).resolve(scope=SCOPE, request=request(), remembered=remembered)
    )
    assert found == remembered and api.calls == []


@pytest.mark.parametrize(
    ("images", "registrations"),
    [
        (["busybox:1"], 1),
        (["busybox:1", "busybox:1"], 1),
        (["busybox:1", "busybox:2"], 2),
        (["busybox:1", "busybox:2", "busybox:1"], 2),  # back to a revision still ACTIVE: found again
    ],
)
def test_registrations_per_spec_change(images: list[str], registrations: int) -> None:
    api, metrics = TaskDefinitions(), Metrics()

    async def scenario() -> None:
        registrar, remembered = Registrar(api, metrics), None
        for image in images:
            remembered = await registrar.resolve(scope=SCOPE, request=request(image), remembered=remembered)

    asyncio.run(scenario())
    assert api.calls.count("register") == registrations
    assert metrics.task_definitions.labels("registered")._value.get() == registrations


def test_deregister_others_keeps_the_one_in_use() -> None:
    api = TaskDefinitions()

    async def scenario() -> tuple[Registered, list[str]]:
        registrar = Registrar(api, Metrics())
        await registrar.resolve(scope=SCOPE, request=request("busybox:1"), remembered=None)
        current = await registrar.resolve(scope=SCOPE, request=request("busybox:2"), remembered=None)
        gone = await registrar.deregister_others(scope=SCOPE, family=request()["family"], keep=current.arn)
        again = await registrar.resolve(scope=SCOPE, request=request("busybox:1"), remembered=current)
        return again, gone

    again, gone = asyncio.run(scenario())
    assert gone == [api.revisions[0][0]]
    assert again.arn == api.revisions[2][0], "a deregistered revision is not reused: a new one is registered"
