"""Build the running scheduler from the operator's configuration."""

from ecs_scheduler.adapters.ecs import Boto3Ecs
from ecs_scheduler.adapters.kube import ClientKubeWriter
from ecs_scheduler.model.config import OperatorConfig
from ecs_scheduler.runtime.clock import SystemClock
from ecs_scheduler.runtime.scheduler import Scheduler


def build_scheduler(config: OperatorConfig) -> Scheduler:
    ecs = Boto3Ecs(
        default_region=config.default_region,
        endpoint_url=config.aws_endpoint_url,
        concurrency=config.aws_concurrency,
        max_attempts=config.aws_max_attempts,
    )
    kube = ClientKubeWriter(concurrency=config.kube_concurrency)
    return Scheduler(config=config, ecs=ecs, kube=kube, clock=SystemClock())
