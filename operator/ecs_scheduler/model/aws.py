"""Where an AWS call goes: whose credentials (the operator's own or an assumed role) and which Region."""

from dataclasses import dataclass

SESSION_NAME_PREFIX = "ecs-scheduler-"
_SESSION_NAME_LIMIT = 64
"""STS RoleSessionName is at most 64 characters."""


@dataclass(frozen=True, order=True)
class AssumedRole:
    """A role the operator assumes for a job, and how: credentials are cached per instance, so a
    role used by two namespaces has two sessions (CloudTrail names the namespace)."""

    arn: str
    session_name: str
    external_id: str | None = None

    @property
    def account(self) -> str:
        """The role's account ID: arn:aws:iam::ACCOUNT:role/NAME."""
        parts = self.arn.split(":")
        return parts[4] if len(parts) > 4 else ""


def session_name(namespace: str) -> str:
    """The RoleSessionName of a namespace's jobs (namespace names are valid session name text)."""
    return (SESSION_NAME_PREFIX + namespace)[:_SESSION_NAME_LIMIT]


@dataclass(frozen=True, order=True)
class AwsScope:
    """The unit AWS clients are shared by: (role, region). No role: the operator's own credentials."""

    region: str | None
    role: AssumedRole | None = None

    @property
    def account(self) -> str:
        """The target account when a role says it; "" for the operator's own account."""
        return self.role.account if self.role is not None else ""

    def describe(self) -> str:
        where = self.region or "default region"
        return f"{where} as {self.role.arn}" if self.role is not None else where
