"""Run notifications: which targets want an outcome, the CloudEvent they get, and how deliveries
are retried. Pure: the senders live in adapters, the bookkeeping in runtime.

The event id is a hash of (job uid, run, attempt, outcome): a delivery repeated after a failure,
a restart or a failover carries the same id, so receivers can drop the repeat (at least once).
"""

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ecs_scheduler.core.plan import JobIdentity
from ecs_scheduler.core.status import iso_precise
from ecs_scheduler.model import names
from ecs_scheduler.model.notify import NotificationTarget, NotifyOutcome

SPEC_VERSION = "1.0"
TYPE_PREFIX = "dev.ecs-scheduler.run."
MAX_ATTEMPTS = 6
BACKOFF_SECONDS = (5.0, 15.0, 60.0, 300.0, 900.0)
"""Waits after failed attempts 1..5: the last attempt comes about 21 minutes after the first."""
MAX_OWED = 20
"""Deliveries a job may owe at once; beyond that the oldest are given up (and said so)."""


@dataclass(frozen=True)
class CloudEvent:
    id: str
    type: str
    payload: str
    """The structured-mode JSON body, exactly as sent (and signed)."""


def event_type(outcome: NotifyOutcome) -> str:
    """'LaunchFailed' -> 'dev.ecs-scheduler.run.launch-failed'."""
    return TYPE_PREFIX + re.sub(r"(?<!^)([A-Z])", r"-\1", outcome).lower()


def event_id(identity: JobIdentity, run: str, attempt: int, outcome: NotifyOutcome) -> str:
    text = f"{identity.uid}/{run}/{attempt}/{outcome}"
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def job_source(identity: JobIdentity) -> str:
    return (
        f"/apis/{names.GROUP}/{names.VERSION}/namespaces/{identity.namespace}/{names.PLURAL}/{identity.name}"
    )


def cloud_event(
    identity: JobIdentity,
    record: Mapping[str, Any],
    *,
    run: str,
    now: datetime,
    tasks: Sequence[Mapping[str, Any]] = (),
) -> CloudEvent:
    """The CloudEvents 1.0 structured JSON for one run record (a status.history entry's shape)."""
    outcome: NotifyOutcome = record["outcome"]
    attempt = int(record.get("attempt", 1))
    data: dict[str, Any] = {
        "namespace": identity.namespace,
        "name": identity.name,
        "uid": identity.uid,
        **record,
    }
    if tasks:
        data["ecsTasks"] = list(tasks)
    identifier = event_id(identity, run, attempt, outcome)
    kind = event_type(outcome)
    envelope: dict[str, Any] = {
        "specversion": SPEC_VERSION,
        "id": identifier,
        "type": kind,
        "source": job_source(identity),
        "subject": str(record["scheduledTime"]),
        "time": iso_precise(now),
        "datacontenttype": "application/json",
        "data": data,
    }
    return CloudEvent(identifier, kind, json.dumps(envelope, separators=(",", ":"), sort_keys=True))


def wanted(targets: Iterable[NotificationTarget], outcome: str) -> list[NotificationTarget]:
    return [target for target in targets if outcome in target.outcomes]


def signature(key: bytes, body: bytes) -> str:
    """The webhook signature header's value: sha256=<hex HMAC-SHA256 of the body>."""
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def next_attempt(attempts: int, now: datetime) -> datetime | None:
    """When to try again after `attempts` failed attempts; None: give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + timedelta(seconds=BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1])
