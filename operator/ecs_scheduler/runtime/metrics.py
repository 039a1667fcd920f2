"""Prometheus metrics of the scheduler. Labels are bounded: no per-job label.

Metric names are part of the public contract (dashboards and alerts use them).
"""

from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

LATENESS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _CountedAtScrape(Collector):
    """A gauge with one label, counted when scraped (`count`), so nothing is kept in step by hand."""

    def __init__(self, name: str, documentation: str, label: str) -> None:
        self.count: Callable[[], Mapping[str, int]] = dict
        self._name, self._documentation, self._label = name, documentation, label

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(self._name, self._documentation, labels=[self._label])
        for value, count in sorted(self.count().items()):
            family.add_metric([value], count)
        yield family


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.fires = Counter(
            "ecs_scheduler_fires",
            "Scheduled instants handled (launches and trigger checks).",
            registry=self.registry,
        )
        self.tasks_launched = Counter(
            "ecs_scheduler_tasks_launched", "ECS tasks started by RunTask.", registry=self.registry
        )
        self.launch_failures = Counter(
            "ecs_scheduler_runtask_failures",
            "RunTask failures (failures[] entries and API errors) by reason.",
            ["reason"],
            registry=self.registry,
        )
        self.lateness = Histogram(
            "ecs_scheduler_schedule_lateness_seconds",
            "Time from a scheduled instant to its RunTask being handed over (before any rate-limit wait).",
            buckets=LATENESS_BUCKETS,
            registry=self.registry,
        )
        self.status_writes = Histogram(
            "ecs_scheduler_status_write_seconds", "Latency of status writes.", registry=self.registry
        )
        self.status_write_errors = Counter(
            "ecs_scheduler_status_write_errors",
            "Status writes that failed (and were retried).",
            registry=self.registry,
        )
        self.status_writes_merged = Counter(
            "ecs_scheduler_status_writes_merged",
            "Status changes merged into a job's pending patch instead of costing a write of their own.",
            registry=self.registry,
        )
        self.status_backlog = Gauge(
            "ecs_scheduler_status_backlog",
            "Jobs whose status patch is due and not yet written (waiting for a writer).",
            registry=self.registry,
        )
        self.status_backlog_age = Gauge(
            "ecs_scheduler_status_backlog_age_seconds",
            "How long the oldest due status patch has waited for a writer.",
            registry=self.registry,
        )
        self.events = Counter(
            "ecs_scheduler_events",
            "Events that happened, by type (Normal ones are aggregated into series).",
            ["type"],
            registry=self.registry,
        )
        self.event_writes = Counter(
            "ecs_scheduler_event_writes",
            "Event API writes: create (a new Event) or patch (a series' count).",
            ["verb"],
            registry=self.registry,
        )

        self.active_tasks = Gauge(
            "ecs_scheduler_active_tasks",
            "Tasks started by the operator that it has not yet seen stopped.",
            registry=self.registry,
        )
        self.runs_finished = Counter(
            "ecs_scheduler_runs_finished",
            "Run attempts that ended, by outcome (Succeeded, Failed, Unknown, Skipped, Replaced).",
            ["outcome"],
            registry=self.registry,
        )
        self.missed = Counter(
            "ecs_scheduler_missed_instants",
            "Scheduled instants that never ran (downtime or a stall beyond startingDeadlineSeconds).",
            registry=self.registry,
        )
        self.job_faults = Counter(
            "ecs_scheduler_job_faults",
            "Jobs stopped because the operator failed while handling them (stage: observing, firing, "
            "launching, ...); each is Ready=False/OperatorError. Any increase is a bug to report.",
            ["stage"],
            registry=self.registry,
        )
        self.describe_calls = Counter(
            "ecs_scheduler_describe_tasks_calls",
            "DescribeTasks calls made to follow tasks (at most 100 tasks each).",
            registry=self.registry,
        )

        self.aws_calls = Counter(
            "ecs_scheduler_aws_calls",
            "AWS API calls by service, operation and outcome (success or the error code), after retries.",
            ["service", "operation", "outcome"],
            registry=self.registry,
        )
        self.throttled = Counter(
            "ecs_scheduler_aws_throttled_responses",
            "Throttled answers from AWS by operation, each attempt (botocore retries them).",
            ["operation"],
            registry=self.registry,
        )
        self.paced_rate = Gauge(
            "ecs_scheduler_ecs_paced_rate",
            "Calls per second the operator allows itself per ECS API after the latest throttle.",
            ["operation"],
            registry=self.registry,
        )
        self.launch_queue = Gauge(
            "ecs_scheduler_launch_queue",
            "RunTask calls waiting behind the RunTask rate limit.",
            registry=self.registry,
        )
        self.launch_wait = Histogram(
            "ecs_scheduler_launch_queue_wait_seconds",
            "How long queued RunTask calls waited for the rate limit before they were sent.",
            buckets=(0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0),
            registry=self.registry,
        )
        self.sqs_depth = Gauge(
            "ecs_scheduler_sqs_queue_depth",
            "Queue depth counted at the latest trigger check, per queue.",
            ["queue"],
            registry=self.registry,
        )
        self.assume_role_calls = Counter(
            "ecs_scheduler_assume_role_calls",
            "STS AssumeRole calls for jobs' roles, by target account and outcome (success or the error code).",
            ["account", "outcome"],
            registry=self.registry,
        )
        self.task_definitions = Counter(
            "ecs_scheduler_task_definitions",
            "Task definition revisions of container jobs by action: registered, reused (found by its "
            "content hash), deregistered.",
            ["action"],
            registry=self.registry,
        )
        self.task_events = Counter(
            "ecs_scheduler_task_events",
            "Messages from the task events queue by result: applied, stale (a repeat or older than "
            "what was known), duplicate (the same event twice in a batch), foreign (not a task in "
            "flight here), malformed (moved to the dead-letter queue), receive_failed.",
            ["result"],
            registry=self.registry,
        )
        self.notifications = Counter(
            "ecs_scheduler_notifications",
            "Run notifications by target type (sns, sqs, webhook) and result: sent, failed (an "
            "attempt that failed and will be retried), abandoned (out of attempts).",
            ["target", "result"],
            registry=self.registry,
        )
        self.leader = Gauge(
            "ecs_scheduler_leader",
            "1 while this replica holds the leader Lease (or runs without leader election), else 0.",
            registry=self.registry,
        )
        self.jobs = _CountedAtScrape(
            "ecs_scheduler_jobs",
            "Jobs known to the operator, by the reason of their Ready condition.",
            "reason",
        )
        self.registry.register(self.jobs)
        self.launch_backlog = _CountedAtScrape(
            "ecs_scheduler_launch_backlog",
            "RunTask calls waiting behind the rate limit, per namespace: the namespace that asks for more "
            "than the account's budget is the one whose backlog grows.",
            "namespace",
        )
        self.registry.register(self.launch_backlog)

    def observe_aws_call(self, service: str, operation: str, outcome: str) -> None:
        self.aws_calls.labels(service, operation, outcome).inc()

    def observe_assume_role(self, role_arn: str, outcome: str) -> None:
        parts = role_arn.split(":")
        self.assume_role_calls.labels(parts[4] if len(parts) > 4 else "", outcome).inc()

    def serve(self, port: int, address: str = "0.0.0.0") -> None:
        start_http_server(port, addr=address, registry=self.registry)
