"""kopf handlers: feed every ScheduledEcsJob watch event to the one scheduler.

Low-level `on.event` handlers are used on purpose: they keep no progress annotations and add
no finalizers, so the operator writes nothing but `.status` and Events (no GitOps drift).
"""

import asyncio
from typing import Any

import kopf

from ecs_scheduler.model import names
from ecs_scheduler.model.config import OperatorConfig
from ecs_scheduler.runtime.wiring import build_elector, build_scheduler


@kopf.on.startup()
async def start(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    config: OperatorConfig = memo.config
    settings.posting.enabled = False  # our own Events say what happened; kopf's would repeat logs
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.networking.request_timeout = 30
    memo.scheduler, memo.aws_clients = await build_scheduler(config)
    if config.metrics_port:
        memo.scheduler.metrics.serve(config.metrics_port)
    memo.loop_task = asyncio.create_task(memo.scheduler.run(), name="scheduler")
    memo.election_task = memo.elector = None
    if config.leader_election:
        elector = memo.elector = build_elector(config)

        def lost() -> None:
            memo.scheduler.deactivate()
            memo.stop.set()

        memo.election_task = asyncio.create_task(elector.run(memo.scheduler.activate, lost), name="election")
    else:
        memo.scheduler.activate()


@kopf.on.event(names.GROUP, names.VERSION, names.PLURAL)
async def job_event(event: kopf.RawEvent, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    if event.get("type") == "DELETED":
        memo.scheduler.forget(body.metadata.namespace, body.metadata.name)
    else:
        # kopf hands over its initial list as events without a type.
        memo.scheduler.observe(body, listed=event.get("type") is None)


@kopf.on.event(names.GROUP, names.VERSION, names.RUN_PLURAL)
async def run_event(event: kopf.RawEvent, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    if event.get("type") == "DELETED":
        memo.scheduler.forget_run(body.metadata.namespace, body.metadata.name)
    else:
        memo.scheduler.observe_run(body)


@kopf.on.probe(id="scheduler")
def scheduler_alive(memo: kopf.Memo, **_: Any) -> dict[str, float]:
    """The liveness endpoint fails (HTTP 500) when the scheduler loop has ended or is stuck."""
    try:
        return dict(memo.scheduler.health())
    except RuntimeError as error:
        raise kopf.PermanentError(str(error)) from error


@kopf.on.cleanup()
async def stop(memo: kopf.Memo, **_: Any) -> None:
    memo.loop_task.cancel()
    if memo.election_task is not None:
        memo.election_task.cancel()
    await memo.scheduler.close()  # the launches in flight are recorded first
    if memo.elector is not None:
        await memo.elector.release()
    memo.aws_clients.close()
