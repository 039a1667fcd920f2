"""Build the running scheduler from the operator's configuration."""

import dataclasses

from ecs_scheduler.adapters.aws import AwsClients
from ecs_scheduler.adapters.ecs import Boto3Ecs
from ecs_scheduler.adapters.ecs_model import EcsModel
from ecs_scheduler.adapters.kube import HttpKubeWriter
from ecs_scheduler.adapters.lease import ClientLease
from ecs_scheduler.adapters.notify import Egress, Senders
from ecs_scheduler.adapters.taskdefs import Boto3TaskDefinitions
from ecs_scheduler.adapters.taskqueue import SqsTaskEventQueue
from ecs_scheduler.adapters.triggers import trigger_sources
from ecs_scheduler.core.egress import allowed_internal, refused_address, refused_name
from ecs_scheduler.core.notify import signature
from ecs_scheduler.model.config import OperatorConfig
from ecs_scheduler.runtime.clock import SystemClock
from ecs_scheduler.runtime.election import LeaderElector
from ecs_scheduler.runtime.metrics import Metrics
from ecs_scheduler.runtime.pacing import PacedEcs
from ecs_scheduler.runtime.scheduler import Scheduler


def egress_policy(internal_hosts: tuple[str, ...]) -> Egress:
    """Where webhooks may go: the core's screen, and the hosts the operator allows inside."""
    return Egress(
        refused_name=refused_name,
        refused_address=refused_address,
        allowed=lambda host: allowed_internal(host, internal_hosts),
    )


async def build_scheduler(config: OperatorConfig) -> tuple[Scheduler, AwsClients]:
    """The scheduler and the AWS clients it shares among its adapters (closed at shutdown)."""
    metrics = Metrics()
    clients = AwsClients(
        default_region=config.default_region,
        endpoint_url=config.aws_endpoint_url,
        concurrency=config.aws_concurrency,
        max_attempts=config.aws_max_attempts,
        observer=metrics.observe_aws_call,
        assume_roles=metrics.observe_assume_role,
        role_duration=config.assume_role_duration,
    )
    clock = SystemClock()
    ecs = PacedEcs(
        Boto3Ecs(clients),
        limits=config.ecs_rate_limits,
        clock=clock,
        metrics=metrics,
        default_region=config.default_region,
    )
    clients.throttles = ecs.throttled
    kube = HttpKubeWriter.from_environment(concurrency=config.kube_concurrency)
    if config.account_id is None:  # learnt once: tenant policy and cluster ARNs are read against it
        config = dataclasses.replace(config, account_id=await clients.own_account())
    scheduler = Scheduler(
        config=config,
        ecs=ecs,
        kube=kube,
        run_objects=kube,
        run_status=kube.run_status(),
        clock=clock,
        triggers=trigger_sources(clients),
        task_definitions=Boto3TaskDefinitions(clients),
        metrics=metrics,
        notifications=Senders(
            clients,
            kube,
            egress=egress_policy(config.webhook_internal_hosts),
            sign=signature,
            ca_file=config.webhook_ca_file,
        ),
        task_events=(
            SqsTaskEventQueue(clients, config.task_events_queue) if config.task_events_queue else None
        ),
        request_check=EcsModel().problems,
    )
    return scheduler, clients


def build_elector(config: OperatorConfig) -> LeaderElector:
    assert config.leader_election is not None
    namespace, _, name = config.leader_election.partition("/")
    if not namespace or not name:
        raise ValueError(f"--leader-election must be NAMESPACE/NAME, not {config.leader_election!r}")
    return LeaderElector(
        ClientLease(),
        namespace=namespace,
        name=name,
        identity=config.identity,
        duration=config.lease_duration,
        retry=config.lease_retry,
        clock=SystemClock(),
    )
