"""ARNs read by their grammar: which partition, Region, account and resource they name.

A job's cluster and task definition may be given by name or by ARN; an ARN decides where the
call really goes, so checks (Region, tenant policy) look at what it names, not at its text.
"""

from dataclasses import dataclass

from ecs_scheduler.core.errors import SpecError
from ecs_scheduler.model.spec import ScheduledEcsJobSpec


@dataclass(frozen=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str
    """What follows the account: 'cluster/default', 'task-definition/app:3', 'role/x'."""

    @property
    def resource_name(self) -> str:
        """The resource without its type: 'default', 'app:3'."""
        return self.resource.split("/", 1)[-1]


def parse_arn(text: str) -> Arn | None:
    """`arn:partition:service:region:account:resource`; None for anything else (a plain name)."""
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return Arn(*parts[1:])


def region_mismatch(spec: ScheduledEcsJobSpec, region: str | None) -> SpecError | None:
    """A cluster or task definition ARN in another Region than the job's calls go to: ECS would
    refuse every launch."""
    if region is None:
        return None
    for field, value in (("spec.cluster", spec.cluster), ("spec.taskDefinition", spec.task_definition)):
        arn = parse_arn(value) if value else None
        if arn is not None and arn.region != region:
            return SpecError(
                field,
                f"is in {arn.region}, but the job's calls go to {region} (spec.region or the operator's)",
            )
    return None


def same_cluster_key(cluster: str, account: str | None) -> str:
    """One key for a cluster named by name or by ARN: the name, when the ARN is in `account`
    (the account the calls are made in); the whole ARN otherwise."""
    arn = parse_arn(cluster)
    if arn is None:
        return cluster
    return arn.resource_name if account is not None and arn.account == account else cluster
