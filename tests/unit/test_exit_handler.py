"""At exit, one known kopf shutdown race is logged quietly; every other loop error is not."""

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import kopf
import pytest
from kopf._cogs.clients.watching import infinite_watch  # the generator kopf leaves open

from ecs_scheduler.cli import quiet_kopf_watch_close

ATHROW = RuntimeError("generator didn't stop after athrow()")


async def infinite_watch_of_ours() -> AsyncIterator[int]:  # same name, not kopf's
    yield 0


def kopf_stream() -> Any:
    resource = kopf.Resource("ecs-scheduler.dev", "v1alpha1", "scheduledecsjobs")
    return infinite_watch(settings=kopf.OperatorSettings(), resource=resource, namespace="team-a")


class RecordingLoop:
    def __init__(self) -> None:
        self.defaulted: list[dict[str, Any]] = []

    def default_exception_handler(self, context: dict[str, Any]) -> None:
        self.defaulted.append(context)


@pytest.mark.parametrize(
    ("generator", "error", "quiet"),
    [
        pytest.param(kopf_stream, ATHROW, True, id="kopf's watch stream, the shutdown race"),
        pytest.param(kopf_stream, RuntimeError("something else"), False, id="kopf's stream, another error"),
        pytest.param(kopf_stream, ValueError("didn't stop after athrow"), False, id="not a RuntimeError"),
        pytest.param(infinite_watch_of_ours, ATHROW, False, id="another generator of that name"),
        pytest.param(None, ATHROW, False, id="no generator: a task's error"),
    ],
)
def test_only_kopfs_watch_close_race_is_quiet(
    generator: Any, error: Exception, quiet: bool, caplog: pytest.LogCaptureFixture
) -> None:
    agen = generator() if generator is not None else None
    context = {"message": "an error occurred during closing of asynchronous generator", "exception": error}
    if agen is not None:
        context["asyncgen"] = agen
    loop = RecordingLoop()
    with caplog.at_level(logging.DEBUG, logger="ecs_scheduler.cli"):
        quiet_kopf_watch_close(loop, context)  # type: ignore[arg-type]
    assert loop.defaulted == ([] if quiet else [context])
    assert ("did not close cleanly" in caplog.text) is quiet
    if agen is not None:
        asyncio.run(agen.aclose())  # never started: closes at once
