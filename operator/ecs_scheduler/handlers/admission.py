"""kopf handler: the validating admission webhook, refusing at apply what would become Ready=False.

Imported only when the webhook is served (`--admission-port`): kopf refuses to start with
admission handlers and no server. Every replica serves it, the standby too.
"""

import asyncio
from datetime import UTC, datetime
from typing import Any

import kopf

from ecs_scheduler.core.verdict import Judge
from ecs_scheduler.model import names
from ecs_scheduler.model.config import OperatorConfig

WEBHOOK_ID = "validate-scheduledecsjob"
"""The handler's id, which is also the webhook's URL path (kopf routes `/<id>` to it)."""

CODES = {"InvalidSpec": 422, "Forbidden": 403}


@kopf.on.validate(names.GROUP, names.VERSION, names.PLURAL, id=WEBHOOK_ID, operations=["CREATE", "UPDATE"])
async def refuse_bad_jobs(body: kopf.Body, memo: kopf.Memo, **kwargs: Any) -> None:
    old: kopf.Body | None = kwargs.get("old")
    operation: str | None = kwargs.get("operation")
    config: OperatorConfig = memo.config
    namespace = body.metadata.namespace or ""
    if not config.serves(namespace):
        return  # another operator's namespace (the chart's selector cannot say every glob)
    spec = body.get("spec")
    if operation == "UPDATE" and old is not None and old.get("spec") == spec:
        # A label, an annotation (run-now), a finalizer: allowed even on a job stored before the
        # webhook existed whose spec it would refuse, as Kubernetes ratchets its own validation.
        return
    judge: Judge = memo.scheduler.judge
    name = body.metadata.name or body.get("metadata", {}).get("generateName") or ""
    now = datetime.now(UTC)
    # In a thread: a schedule's never-fires search or ECS's model check must not delay fires.
    verdict = await asyncio.to_thread(judge, spec, namespace=namespace, name=name, now=now)
    if verdict.error is not None and verdict.reason is not None:
        raise kopf.AdmissionError(verdict.message, code=CODES[verdict.reason])
