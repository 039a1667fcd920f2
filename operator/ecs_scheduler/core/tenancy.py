"""The tenant guard: may this namespace's job use this cluster, task definition and roles?"""

from fnmatch import fnmatchcase

from ecs_scheduler.core.errors import SpecError
from ecs_scheduler.model.spec import ScheduledEcsJobSpec
from ecs_scheduler.model.tenancy import Allowance, TenantPolicy


def allowance_for(policy: TenantPolicy, namespace: str) -> Allowance | None:
    if namespace in policy.namespaces:
        return policy.namespaces[namespace]
    matches = [key for key in policy.namespaces if fnmatchcase(namespace, key)]
    # The most specific pattern (the longest) wins, so 'team-*' beats '*'.
    return policy.namespaces[max(matches, key=len)] if matches else None


def family_of(task_definition: str) -> str:
    """'app', 'app:3' and 'arn:aws:ecs:eu-west-1:123:task-definition/app:3' are all family 'app'."""
    return task_definition.rsplit("/", 1)[-1].split(":", 1)[0]


def _cluster_names(cluster: str) -> list[str]:
    return [cluster, cluster.rsplit("/", 1)[-1]]


def _allowed(values: list[str], patterns: list[str] | None) -> bool:
    return patterns is None or any(fnmatchcase(v, p) for v in values for p in patterns)


def forbidden(
    policy: TenantPolicy | None, *, namespace: str, spec: ScheduledEcsJobSpec, default_cluster: str
) -> SpecError | None:
    """The first thing the job may not use, as an error naming the field; None when allowed."""
    allowance = allowance_for(policy, namespace) if policy is not None else None
    if allowance is None:
        return None
    cluster = spec.cluster or default_cluster
    if not _allowed(_cluster_names(cluster), allowance.clusters):
        return SpecError("spec.cluster", f"cluster {cluster!r} is not allowed in namespace {namespace}")
    family = family_of(spec.task_definition)
    if not _allowed([family], allowance.task_definition_families):
        return SpecError(
            "spec.taskDefinition",
            f"task definition family {family!r} is not allowed in namespace {namespace}",
        )
    overrides = spec.overrides
    for field, role in (
        ("spec.overrides.taskRoleArn", overrides.task_role_arn if overrides else None),
        ("spec.overrides.executionRoleArn", overrides.execution_role_arn if overrides else None),
    ):
        if role is not None and not _allowed([role], allowance.roles):
            return SpecError(field, f"role {role!r} is not allowed in namespace {namespace}")
    return None
