"""The operator's own settings, from flags and environment variables."""

from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from ecs_scheduler.model.tenancy import TenantPolicy


@dataclass(frozen=True)
class RateLimit:
    """One ECS API's token bucket: `rate` calls per second sustained, `burst` at once."""

    rate: float
    burst: float


ECS_RATE_LIMITS: dict[str, RateLimit] = {
    # RunTask: ECS's published default for an account and Region. The others are set below the
    # documented task read/write limits, leaving room for the account's other ECS clients.
    "RunTask": RateLimit(40, 100),
    "DescribeTasks": RateLimit(20, 50),
    "ListTasks": RateLimit(20, 50),
    "StopTask": RateLimit(20, 50),
    "DescribeTaskDefinition": RateLimit(10, 20),
}
"""Client-side limits per ECS API, per account and Region (--ecs-rate-limit overrides)."""


def parse_rate_limits(entries: list[str]) -> dict[str, RateLimit]:
    """ECS_RATE_LIMITS with `API=RATE/BURST` entries applied ("RunTask=20/50")."""
    limits = dict(ECS_RATE_LIMITS)
    for entry in entries:
        api, _, value = entry.partition("=")
        rate, _, burst = value.partition("/")
        if api not in limits:
            raise ValueError(f"--ecs-rate-limit: unknown API {api!r}; one of {', '.join(limits)}")
        try:
            limit = RateLimit(float(rate), float(burst or rate))
        except ValueError:
            raise ValueError(f"--ecs-rate-limit: {entry!r} is not API=RATE/BURST") from None
        if limit.rate <= 0 or limit.burst < 1:
            raise ValueError(f"--ecs-rate-limit: {entry!r} needs a rate > 0 and a burst >= 1")
        limits[api] = limit
    return limits


@dataclass(frozen=True)
class OperatorConfig:
    """Everything the operator needs to know that is not in a ScheduledEcsJob."""

    default_cluster: str = "default"
    default_region: str | None = None
    namespaces: tuple[str, ...] = ()
    aws_endpoint_url: str | None = None
    aws_concurrency: int = 16
    aws_max_attempts: int = 5
    assume_role_duration: int = 3600
    """DurationSeconds of the sessions assumed for jobs' roles (900 to the role's maximum)."""
    kube_concurrency: int = 16
    """Kubernetes writes (status patches, Events) in flight at once."""
    status_merge_window: float = 60.0
    """A run that ended well is written with the job's next fire when that comes within this
    many seconds (one status write per fire instead of two); 0: always at once."""
    event_series_refresh: float = 600.0
    """Seconds between writes of a Normal event series' count (client-go's events library)."""
    event_rate: float = 50.0
    event_burst: int = 100
    """Event writes (creates and count updates) per second, and at once."""
    ecs_rate_limits: dict[str, RateLimit] = field(default_factory=lambda: dict(ECS_RATE_LIMITS))
    """Client-side pacing per ECS API (per Region): RunTasks over it queue, earliest first."""
    started_by: str = "ecs-scheduler"
    log_level: str = "INFO"
    log_json: bool = False
    liveness_endpoint: str | None = None
    metrics_port: int | None = None
    track_interval: float = 10.0
    """Seconds between two DescribeTasks sweeps over every task not yet stopped."""
    task_events_queue: str | None = None
    """URL of the SQS queue an EventBridge rule fills with ECS Task State Change events; None:
    tasks are followed by DescribeTasks alone."""
    task_events_sweep: float = 300.0
    """With the queue: seconds between safety-net DescribeTasks sweeps over every task."""
    task_events_grace: float = 60.0
    """With the queue: a task no event has spoken of for this long is described at once."""
    task_events_sns_topics: tuple[str, ...] = ()
    """SNS topics (patterns) whose envelopes on the task events queue are opened (EventBridge ->
    SNS -> SQS without raw message delivery); others are moved aside with the reason."""
    webhook_internal_hosts: tuple[str, ...] = ()
    """Webhook hosts (patterns) allowed even though they resolve inside the cluster or machine."""
    webhook_ca_file: str | None = None
    """CA bundle webhooks are verified with (default: the system's)."""
    leader_election: str | None = None
    """namespace/name of the Lease that elects the active replica; None: always active."""
    identity: str = "ecs-scheduler"
    lease_duration: float = 15.0
    lease_retry: float = 2.0
    tenant_policy: TenantPolicy | None = None
    """Which clusters, task definition families and roles each namespace's jobs may use."""
    account_id: str | None = None
    """The operator's own AWS account; None: read with STS GetCallerIdentity at start."""
    admission_port: int | None = None
    """Serve the validating admission webhook (HTTPS) on this port; None: no webhook."""
    admission_address: str = "0.0.0.0"
    admission_cert_file: str | None = None
    admission_key_file: str | None = None
    """The webhook's serving certificate and key (PEM), e.g. from the chart's Secret."""
    extra: dict[str, str] = field(default_factory=dict)

    def serves(self, namespace: str) -> bool:
        """Whether jobs in `namespace` are this operator's: it matches an inclusive entry of
        `namespaces` (all when there is none) and no `!` entry (globs as kopf reads them)."""
        inclusions = [n for n in self.namespaces if not n.startswith("!")]
        exclusions = [n[1:] for n in self.namespaces if n.startswith("!")]
        included = not inclusions or any(fnmatchcase(namespace, n) for n in inclusions)
        return included and not any(fnmatchcase(namespace, n) for n in exclusions)

    @property
    def namespaces_are_names(self) -> bool:
        """Every watched namespace is a plain name (no `*`/`?`/`[` glob, no `!` exclusion).
        Then nothing needs listing namespaces, which the chart's per-namespace RBAC forbids."""
        return bool(self.namespaces) and not any(
            name.startswith("!") or any(c in name for c in "*?[") for name in self.namespaces
        )
