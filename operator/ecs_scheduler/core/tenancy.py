"""The tenant guard: may this namespace's job use this cluster, task definition, image and roles,
and which role does the operator assume for it?"""

from fnmatch import fnmatchcase

from ecs_scheduler.core.arns import parse_arn
from ecs_scheduler.core.errors import SpecError
from ecs_scheduler.model.aws import AssumedRole, AwsScope, session_name
from ecs_scheduler.model.notify import NotificationTarget
from ecs_scheduler.model.spec import ScheduledEcsJobSpec
from ecs_scheduler.model.tenancy import Allowance, TenantPolicy


def allowance_for(policy: TenantPolicy | None, namespace: str) -> Allowance | None:
    if policy is None:
        return None
    if namespace in policy.namespaces:
        return policy.namespaces[namespace]
    matches = [key for key in policy.namespaces if fnmatchcase(namespace, key)]
    # The most specific pattern (the longest) wins, so 'team-*' beats '*'.
    return policy.namespaces[max(matches, key=len)] if matches else None


def family_of(task_definition: str) -> str:
    """'app', 'app:3' and 'arn:aws:ecs:eu-west-1:123:task-definition/app:3' are all family 'app'."""
    return task_definition.rsplit("/", 1)[-1].split(":", 1)[0]


def repository_of(image: str) -> str:
    """'registry:5000/team/app:1.2' and 'team/app@sha256:...' are repositories
    'registry:5000/team/app' and 'team/app' (a colon before the last slash is a registry port).
    The spec's grammar (model.limits.IMAGE_REFERENCE) has refused anything that is not a
    reference, such as a path with '..', before this is asked."""
    image = image.split("@", 1)[0]
    slash = image.rfind("/")
    colon = image.rfind(":")
    return image[:colon] if colon > slash else image


def _names(value: str, *, plain: str, account: str | None) -> list[str]:
    """What patterns are matched against for a cluster or task definition given as `value`.

    A name is matched as it is. An ARN in the job's own account (the assumed role's, or the
    operator's) is matched by its name and as a whole; an ARN in any other account, or when the
    operator's account is not known, only as a whole: `clusters: [default]` must not allow
    another account's cluster called default."""
    arn = parse_arn(value)
    if arn is None:
        return [plain]
    if account is not None and arn.account == account:
        return [plain, value]
    return [value]


def _allowed(values: list[str], patterns: list[str] | None) -> bool:
    return patterns is None or any(fnmatchcase(v, p) for v in values for p in patterns)


def assumed_role(
    policy: TenantPolicy | None, *, namespace: str, spec: ScheduledEcsJobSpec
) -> AssumedRole | None:
    """The role the operator assumes for this job: spec.roleArn, else the namespace's default; None
    uses the operator's own credentials."""
    allowance = allowance_for(policy, namespace)
    arn = spec.role_arn or (allowance.default_role_arn if allowance is not None else None)
    if arn is None:
        return None
    external_id = allowance.external_id if allowance is not None else None
    return AssumedRole(arn=arn, session_name=session_name(namespace), external_id=external_id)


def scope_of(
    policy: TenantPolicy | None, *, namespace: str, spec: ScheduledEcsJobSpec, default_region: str | None
) -> AwsScope:
    """Where the job's AWS calls go: its region (or the operator's) and the role assumed for it."""
    return AwsScope(spec.region or default_region, assumed_role(policy, namespace=namespace, spec=spec))


def forbidden(
    policy: TenantPolicy | None,
    *,
    namespace: str,
    spec: ScheduledEcsJobSpec,
    default_cluster: str,
    home_account: str | None = None,
) -> SpecError | None:
    """The first thing the job may not use, as an error naming the field; None when allowed.
    `home_account` is the operator's own AWS account (None: not known)."""
    allowance = allowance_for(policy, namespace)
    if allowance is None:
        return None
    job_role = assumed_role(policy, namespace=namespace, spec=spec)
    account = job_role.account if job_role is not None else home_account
    cluster = spec.cluster or default_cluster
    if not _allowed(_names(cluster, plain=cluster.rsplit("/", 1)[-1], account=account), allowance.clusters):
        return SpecError("spec.cluster", f"cluster {cluster!r} is not allowed in namespace {namespace}")
    if spec.task_definition is not None:
        family = family_of(spec.task_definition)
        names = _names(spec.task_definition, plain=family, account=account)
        if not _allowed(names, allowance.task_definition_families):
            return SpecError(
                "spec.taskDefinition",
                f"task definition family {family!r} is not allowed in namespace {namespace}",
            )
    container = spec.container
    if container is not None:
        repository = repository_of(container.image)
        if not _allowed([repository], allowance.image_repositories):
            return SpecError(
                "spec.container.image",
                f"image repository {repository!r} is not allowed in namespace {namespace}",
            )
    overrides = spec.overrides
    for field, role in (
        ("spec.overrides.taskRoleArn", overrides.task_role_arn if overrides else None),
        ("spec.overrides.executionRoleArn", overrides.execution_role_arn if overrides else None),
        ("spec.container.taskRoleArn", container.task_role_arn if container else None),
        ("spec.container.executionRoleArn", container.execution_role_arn if container else None),
    ):
        if role is not None and not _allowed([role], allowance.roles):
            return SpecError(field, f"role {role!r} is not allowed in namespace {namespace}")
    for index, target in enumerate(spec.notifications):
        denied = _forbidden_target(allowance, target)
        if denied is not None:
            field, what = denied
            return SpecError(
                f"spec.notifications[{index}].{field}", f"{what} is not allowed in namespace {namespace}"
            )
    assumed = spec.role_arn or allowance.default_role_arn
    if assumed is not None and not _allowed([assumed], allowance.assume_roles):
        field = "spec.roleArn" if spec.role_arn else "spec.roleArn (the namespace's defaultRoleArn)"
        return SpecError(field, f"role {assumed!r} may not be assumed in namespace {namespace}")
    return None


def _forbidden_target(allowance: Allowance, target: NotificationTarget) -> tuple[str, str] | None:
    if target.sns is not None and not _allowed([target.sns.topic_arn], allowance.notification_topics):
        return "sns.topicArn", f"topic {target.sns.topic_arn!r}"
    if target.sqs is not None and not _allowed([target.sqs.queue_url], allowance.notification_queues):
        return "sqs.queueUrl", f"queue {target.sqs.queue_url!r}"
    if target.webhook is not None:
        host = target.webhook.host
        if not _allowed([host], allowance.webhook_hosts):
            return "webhook.url", f"webhook host {host!r}"
    return None
