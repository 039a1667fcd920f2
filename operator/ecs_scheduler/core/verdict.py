"""Whether a job may run, decided in one place for admission, offline checks and the Ready condition.

The admission webhook, `ecs-scheduler validate` and the operator's Ready condition all call
`Judge.__call__`, so the verdict and its words cannot drift between apply time and run time.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from ecs_scheduler.core.errors import SpecError
from ecs_scheduler.core.requests import RequestCheck
from ecs_scheduler.core.tenancy import forbidden
from ecs_scheduler.core.validation import ValidJob, validate_spec
from ecs_scheduler.model.config import OperatorConfig
from ecs_scheduler.model.tenancy import TenantPolicy

logger = logging.getLogger(__name__)

Reason = Literal["InvalidSpec", "Forbidden"]


@dataclass(frozen=True)
class Verdict:
    """A job that may run, or the first reason it may not (`reason` is the condition's reason)."""

    job: ValidJob | None
    error: SpecError | None = None
    reason: Reason | None = None

    @property
    def message(self) -> str:
        """The words users read: the Ready condition's message and the admission denial alike."""
        return "" if self.error is None else str(self.error)


@dataclass(frozen=True)
class Judge:
    """What a verdict depends on besides the spec: the operator's defaults and its tenant policy."""

    default_cluster: str = "default"
    default_region: str | None = None
    policy: TenantPolicy | None = None
    home_account: str | None = None
    """The operator's own AWS account: tenant patterns name clusters and families in it."""
    check: RequestCheck | None = None
    """ECS's model of its requests (adapters.ecs_model); None skips that check."""

    @classmethod
    def of_operator(cls, config: OperatorConfig, check: RequestCheck | None) -> "Judge":
        """The judge of a running operator (the webhook's and the Ready condition's alike)."""
        return cls(
            config.default_cluster, config.default_region, config.tenant_policy, config.account_id, check
        )

    def __call__(self, raw: Any, *, namespace: str, name: str, now: datetime) -> Verdict:
        try:
            job = validate_spec(raw, identity=f"{namespace}/{name}", now=now, check=self.check,
                                default_cluster=self.default_cluster, default_region=self.default_region)  # fmt: skip
        except SpecError as error:
            return Verdict(None, error, "InvalidSpec")
        except Exception as error:  # a spec never crashes the operator, nor the webhook
            logger.exception("unexpected error validating %s/%s", namespace, name)
            return Verdict(None, SpecError("spec", f"could not be read: {error}"), "InvalidSpec")
        denied = forbidden(self.policy, namespace=namespace, spec=job.spec, default_cluster=self.default_cluster,
                           home_account=self.home_account)  # fmt: skip
        if denied is not None:
            return Verdict(job, denied, "Forbidden")
        return Verdict(job)
