"""The jobs both schedulers run: the same mix, as ScheduledEcsJob bodies and as APScheduler triggers.

- 70 % every minute, spread over seconds 1-59 (a stable second per job, as `?` picks one; second 0
  belongs to the burst, so the two kinds measure what they say)
- 10 % every minute at second 0: a burst of many jobs on the same second
- 20 % hourly at a stable minute (`H`), mostly idle during a run
For the idle measurement every job runs once a year, so nothing fires for more than an hour.
"""

from dataclasses import dataclass
from typing import Any

from ecs_scheduler.core.hashing import stable_choice


@dataclass(frozen=True)
class Job:
    namespace: str
    name: str
    kind: str  # spread | burst | hourly | yearly
    second: int
    minute: int

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


def jobs(count: int, *, idle: bool = False) -> list[Job]:
    result = []
    for index in range(count):
        namespace, name = f"team-{index % 50}", f"job-{index}"
        key = f"{namespace}/{name}"
        if idle:
            kind = "yearly"
        else:
            slot = index % 10
            kind = "burst" if slot == 0 else "hourly" if slot in (1, 2) else "spread"
        second = 0 if kind in ("burst", "hourly", "yearly") else stable_choice(key, "second", 1, 59)
        minute = stable_choice(key, "minute", 0, 59)
        result.append(Job(namespace, name, kind, second, minute))
    return result


def body(job: Job, uid: int, created: str) -> dict[str, Any]:
    """The resource as kopf would hand it over (spec only; no status yet)."""
    schedule, syntax = {
        "spread": (f"{job.second} * * * * * * *", "EcsScheduler"),
        "burst": ("0 * * * * * * *", "EcsScheduler"),
        "hourly": ("H * * * *", "Cron"),
        "yearly": ("H H 1 1 *", "Cron"),
    }[job.kind]
    return {
        "metadata": {"namespace": job.namespace, "name": job.name, "uid": f"uid-{uid}", "generation": 1,
                     "creationTimestamp": created},
        "spec": {"taskDefinition": "bench-task", "schedule": schedule, "scheduleSyntax": syntax},
    }  # fmt: skip
