"""`all_answered`: the records of one instant's launches wait for every RunTask of the instant."""

import asyncio
from datetime import UTC, datetime

import pytest

from ecs_scheduler.model.aws import AwsScope
from ecs_scheduler.model.launch import RunTaskOutcome
from ecs_scheduler.runtime.launches import Launch, all_answered
from ecs_scheduler.runtime.runs import JobKey, Run

INSTANT = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def launch(futures: list[asyncio.Future[RunTaskOutcome]]) -> Launch:
    run = Run(
        key=JobKey("team", "job"), scheduled=INSTANT, cluster="c", scope=AwsScope(None), origin="Schedule"
    )
    return Launch(run, [], futures, INSTANT)


def settle(future: asyncio.Future[RunTaskOutcome], how: str) -> None:
    if how == "answer":
        future.set_result(RunTaskOutcome())
    elif how == "error":
        future.set_exception(ConnectionError("reset"))
    else:
        future.cancel()


@pytest.mark.parametrize(
    ("name", "launches", "settled_before", "settled_after"),
    [
        ("no launches at all", [], [], []),
        ("every answer already in", [2, 1], ["answer"] * 3, []),
        ("one answer still to come", [2, 1], ["answer"] * 2, ["answer"]),
        ("answers arrive one by one", [1, 1, 1], [], ["answer"] * 3),
        ("an error is an answer too", [1, 1], ["answer"], ["error"]),
        ("so is a cancelled call", [1, 1], [], ["cancel", "answer"]),
    ],
)  # fmt: skip
def test_resolves_exactly_when_the_last_runtask_is_answered(
    name: str, launches: list[int], settled_before: list[str], settled_after: list[str]
) -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[RunTaskOutcome]] = [loop.create_future() for _ in range(sum(launches))]
        for future, how in zip(futures, settled_before, strict=False):
            settle(future, how)
        groups, start = [], 0
        for size in launches:
            groups.append(launch(futures[start : start + size]))
            start += size
        answered = all_answered(groups)
        for future, how in zip(futures[len(settled_before) :], settled_after, strict=True):
            await asyncio.sleep(0)
            assert not answered.done(), f"{name}: resolved before the last answer"
            settle(future, how)
        await asyncio.sleep(0)
        assert answered.done(), f"{name}: still waiting after the last answer"
        for future in futures:
            if not future.cancelled():
                future.exception()  # retrieved, so no "never retrieved" warning

    asyncio.run(scenario())
