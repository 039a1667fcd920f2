"""What every part of a run's runtime shares: the services, the jobs, and the tracker."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ecs_scheduler.adapters.ecs import EcsApi
from ecs_scheduler.model.config import OperatorConfig
from ecs_scheduler.model.job import JobKey
from ecs_scheduler.runtime.background import Background
from ecs_scheduler.runtime.clock import Clock
from ecs_scheduler.runtime.jobs import JobState, Reporter
from ecs_scheduler.runtime.metrics import Metrics
from ecs_scheduler.runtime.notifier import Notifier
from ecs_scheduler.runtime.priority import LowPriority
from ecs_scheduler.runtime.tracker import Tracker


@dataclass
class RunContext:
    config: OperatorConfig
    ecs: EcsApi
    report: Reporter
    clock: Clock
    metrics: Metrics
    background: Background
    jobs: Mapping[JobKey, JobState]
    """The scheduler's jobs: the current state of each, looked up again after every await."""
    planned: Callable[[JobKey], datetime | None]
    """A job's next planned fire (None: none)."""
    notifier: Notifier
    tracker: Tracker
    after_launch: LowPriority = field(default_factory=LowPriority)
    """Records of launches and ends of runs wait their turn here, behind the fires."""
