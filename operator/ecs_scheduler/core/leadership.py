"""Leader election over a coordination.k8s.io Lease, decided like client-go's leaderelection.

Expiry is judged by when *this* process last saw the lease change, not by the renewTime the
holder wrote, so clocks that disagree between nodes cannot make two replicas lead at once.
A leader gives up when it could not renew for `renew_deadline` (shorter than the lease), so
it stops before anyone else may take over.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

LeaseAction = Literal["Create", "Renew", "TakeOver", "Wait", "Release"]


@dataclass(frozen=True)
class LeaseRecord:
    holder: str | None
    duration_seconds: float
    renew_time: str | None
    transitions: int
    resource_version: str | None
    acquire_time: str | None = None

    @classmethod
    def from_object(cls, lease: dict[str, Any]) -> "LeaseRecord":
        spec = lease.get("spec") or {}
        return cls(
            holder=spec.get("holderIdentity") or None,
            duration_seconds=float(spec.get("leaseDurationSeconds") or 0),
            renew_time=spec.get("renewTime"),
            transitions=int(spec.get("leaseTransitions") or 0),
            resource_version=(lease.get("metadata") or {}).get("resourceVersion"),
            acquire_time=spec.get("acquireTime"),
        )

    @property
    def version(self) -> tuple[str | None, str | None]:
        """What changes whenever the holder renews or someone takes over."""
        return (self.holder, self.renew_time)


def lease_action(
    record: LeaseRecord | None, *, me: str, observed_at: datetime | None, now: datetime
) -> LeaseAction:
    if record is None:
        return "Create"
    if record.holder == me:
        return "Renew"
    if record.holder is None:
        return "TakeOver"
    if observed_at is not None and (now - observed_at).total_seconds() > record.duration_seconds:
        return "TakeOver"  # the holder has not renewed for a whole lease, as this process saw it
    return "Wait"


def micro_time(instant: datetime) -> str:
    """Kubernetes MicroTime: RFC 3339 with microseconds."""
    return instant.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def lease_body(
    record: LeaseRecord | None,
    *,
    action: LeaseAction,
    me: str,
    duration_seconds: float,
    now: datetime,
    name: str,
) -> dict[str, Any]:
    """The Lease to create or replace (with the read resourceVersion, so a race loses cleanly)."""
    renewing = action == "Renew" and record is not None
    if action == "Release":
        # As client-go's ReleaseOnCancel: no holder, so a standby takes over at its next look
        # instead of waiting for the lease to run out.
        spec: dict[str, Any] = {
            "leaseDurationSeconds": 1,
            "acquireTime": micro_time(now),
            "renewTime": micro_time(now),
            "leaseTransitions": record.transitions if record is not None else 0,
        }
        return _lease(name, record, spec)
    spec = {
        "holderIdentity": me,
        "leaseDurationSeconds": max(1, round(duration_seconds)),
        "acquireTime": record.acquire_time if renewing and record is not None else micro_time(now),
        "renewTime": micro_time(now),
        "leaseTransitions": (record.transitions + (0 if renewing else 1)) if record is not None else 0,
    }
    return _lease(name, record, spec)


def _lease(name: str, record: LeaseRecord | None, spec: dict[str, Any]) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if record is not None and record.resource_version is not None:
        metadata["resourceVersion"] = record.resource_version
    return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": metadata, "spec": spec}
