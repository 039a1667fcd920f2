"""Pure builders of status patches and conditions.

Patches are JSON merge patches of `.status` only: the operator never writes fields that a
Git repository owns.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ecs_scheduler.model.status import ReadyReason

READY = "Ready"


@dataclass(frozen=True)
class Readiness:
    """The Ready condition's content, before timestamps."""

    ready: bool
    reason: ReadyReason
    message: str


def iso(instant: datetime | None) -> str | None:
    """RFC 3339 in UTC with a Z, as Kubernetes writes timestamps."""
    if instant is None:
        return None
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(value: Any) -> datetime | None:
    """An RFC 3339 timestamp as Kubernetes or ECS writes it (Z or offset), or None when absent or unreadable."""
    if isinstance(value, datetime):
        return value
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def iso_precise(instant: datetime) -> str:
    """Like iso(), keeping milliseconds: sub-second schedules need them."""
    text = instant.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def ready_of(conditions: Sequence[Mapping[str, Any]] | None) -> Mapping[str, Any]:
    """The Ready condition among `conditions`, or an empty mapping."""
    return next((c for c in conditions or [] if c.get("type") == READY), {})


def ready_condition(
    readiness: Readiness,
    *,
    generation: int | None,
    previous: Sequence[dict[str, Any]],
    now: datetime,
) -> dict[str, Any]:
    """The Ready condition; its transition time moves only when its status changes."""
    status = "True" if readiness.ready else "False"
    old = ready_of(previous)
    transition = old.get("lastTransitionTime") if old.get("status") == status else None
    return {
        "type": READY,
        "status": status,
        "reason": readiness.reason,
        "message": readiness.message,
        "lastTransitionTime": transition or iso(now),
        "observedGeneration": generation,
    }


def with_condition(previous: Sequence[dict[str, Any]], condition: dict[str, Any]) -> list[dict[str, Any]]:
    """Conditions with `condition` replacing the one of its type, others kept."""
    return [c for c in previous if c.get("type") != condition["type"]] + [condition]


def schedule_readiness(*, suspended: bool, next_run: datetime | None, resolved: str) -> Readiness:
    """Ready's content for a valid spec, from whether and when it will fire next."""
    if suspended:
        return Readiness(False, "Suspended", "spec.suspended is true: no run will start")
    if next_run is None:
        return Readiness(True, "Finished", "the schedule has no further runs")
    return Readiness(True, "Scheduled", f"next run at {iso_precise(next_run)} ({resolved})")
