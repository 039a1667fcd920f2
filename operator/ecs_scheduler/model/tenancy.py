"""What the operator's configuration allows each namespace's jobs to use (the tenant guard)."""

from pydantic import Field

from ecs_scheduler.model.base import ApiModel


class Allowance(ApiModel):
    """Patterns ('*' matches any text) a namespace's jobs must match. An absent list allows anything."""

    clusters: list[str] | None = Field(default=None, description="ECS cluster names (or ARNs).")
    task_definition_families: list[str] | None = Field(
        default=None, description="Task definition families, whatever the revision or ARN form."
    )
    roles: list[str] | None = Field(
        default=None, description="IAM role ARNs allowed in overrides.taskRoleArn and executionRoleArn."
    )


class TenantPolicy(ApiModel):
    """Per-namespace allowances. A key may be a pattern; the exact name wins over patterns, and
    a namespace that matches no key is not restricted (add '*' to restrict everyone)."""

    namespaces: dict[str, Allowance] = Field(default_factory=dict)
