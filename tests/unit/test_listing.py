"""kopf's initial list: the status writes its planning makes wait for the list's end."""

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from ecs_scheduler.model.config import OperatorConfig
from ecs_scheduler.runtime.scheduler import Scheduler
from tests.unit.test_burst import INSTANT, FixedClock


class Statuses:
    """The Kubernetes boundary, counting status patches."""

    def __init__(self) -> None:
        self.patched: list[str] = []

    async def patch_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        self.patched.append(name)

    async def create_event(self, namespace: str, event: dict[str, Any]) -> None:
        pass

    async def patch_event(self, namespace: str, name: str, patch: dict[str, Any]) -> None:
        pass

    async def close(self) -> None:
        pass


def body(index: int) -> dict[str, Any]:
    created = (INSTANT - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "metadata": {"namespace": "team", "name": f"job-{index}", "uid": f"uid-{index}", "generation": 1,
                     "creationTimestamp": created},
        "spec": {"taskDefinition": "app", "schedule": "0 3 * * *"},  # nothing fires during the test
    }  # fmt: skip


async def settle() -> None:
    for _ in range(50):
        await asyncio.sleep(0)


@pytest.mark.parametrize(
    ("listing_ends_by", "wait"),
    [
        pytest.param("a watch event that is not a listing", 0.0, id="first non-listed event"),
        pytest.param("half a second without a listed object", 0.7, id="quiet"),
    ],
)
def test_writes_of_the_initial_list_wait_for_its_end(listing_ends_by: str, wait: float) -> None:
    async def main() -> None:
        kube = Statuses()
        scheduler = Scheduler(
            config=OperatorConfig(track_interval=3600),
            ecs=None,
            kube=kube,
            clock=FixedClock(INSTANT),
            triggers={},  # type: ignore[arg-type]
            task_definitions=None,  # type: ignore[arg-type]
        )
        scheduler.activate()
        for index in range(20):
            scheduler.observe(body(index), listed=True)
        await settle()
        assert kube.patched == [], "held while the list is handed over"
        if wait:
            await asyncio.sleep(wait)
        else:
            scheduler.observe(body(20))  # created after the list: not held
        await settle()
        assert sorted(kube.patched) == sorted(f"job-{i}" for i in range(20 if wait else 21)), listing_ends_by
        await scheduler.close()

    asyncio.run(main())
