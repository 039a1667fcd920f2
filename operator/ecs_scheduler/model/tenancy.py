"""What the operator's configuration allows each namespace's jobs to use (the tenant guard)."""

from pydantic import Field

from ecs_scheduler.model.base import ApiModel


class Allowance(ApiModel):
    """Patterns ('*' matches any text) a namespace's jobs must match. An absent list allows anything;
    an empty list allows nothing."""

    clusters: list[str] | None = Field(default=None, description="ECS cluster names (or ARNs).")
    task_definition_families: list[str] | None = Field(
        default=None, description="Task definition families, whatever the revision or ARN form."
    )
    roles: list[str] | None = Field(
        default=None,
        description=(
            "IAM role ARNs allowed in overrides.taskRoleArn and executionRoleArn, and in "
            "container.taskRoleArn and executionRoleArn."
        ),
    )
    image_repositories: list[str] | None = Field(
        default=None,
        description="Image repositories (the image without its tag or digest) allowed in spec.container.image.",
    )
    assume_roles: list[str] | None = Field(
        default=None,
        description="IAM role ARNs the operator may assume for this namespace's jobs (spec.roleArn).",
    )
    notification_topics: list[str] | None = Field(
        default=None, description="SNS topic ARNs allowed in spec.notifications[].sns.topicArn."
    )
    notification_queues: list[str] | None = Field(
        default=None, description="SQS queue URLs allowed in spec.notifications[].sqs.queueUrl."
    )
    webhook_hosts: list[str] | None = Field(
        default=None,
        description="Host names (the URL's host, without port) allowed in spec.notifications[].webhook.url.",
    )
    default_role_arn: str | None = Field(
        default=None,
        description="The role assumed for a job without spec.roleArn (none: the operator's own).",
    )
    external_id: str | None = Field(
        default=None,
        min_length=2,
        max_length=1224,
        description=(
            "sts:ExternalId sent when assuming any role for this namespace. Set here, not in the job, so a "
            "tenant cannot present another tenant's external ID."
        ),
    )


class TenantPolicy(ApiModel):
    """Per-namespace allowances. A key may be a pattern; the exact name wins over patterns, and
    a namespace that matches no key is not restricted (add '*' to restrict everyone)."""

    namespaces: dict[str, Allowance] = Field(default_factory=dict)
