"""Where a task's output is: the CloudWatch Logs stream of each container, from the task
definition's log configuration (read once per revision), or why there is none to point at.

The awslogs driver names a stream `prefix/container/taskId` when `awslogs-stream-prefix` is
set (Fargate requires it); without it the stream is named after the Docker container id, which
ECS does not report, so no location is guessed.
"""

from collections.abc import Mapping
from typing import Any

from ecs_scheduler.core.arns import parse_arn

LogConfiguration = Mapping[str, Any]
"""A container definition's `logConfiguration`, as ECS returns it (logDriver, options)."""


def task_id(task_arn: str) -> str:
    """arn:aws:ecs:region:account:task/cluster/ID (or the older task/ID) -> ID."""
    return task_arn.rsplit("/", 1)[-1]


def log_locations(task_arn: str, configs: Mapping[str, LogConfiguration | None]) -> list[dict[str, str]]:
    """The status entries (LogLocation's shape) for one task's containers."""
    arn = parse_arn(task_arn)
    task_region = arn.region if arn is not None else None
    found = []
    for container, config in configs.items():
        entry = {"taskId": task_id(task_arn), "container": container}
        driver = str((config or {}).get("logDriver", ""))
        options = {str(k): str(v) for k, v in ((config or {}).get("options") or {}).items()}
        if not config:
            entry["note"] = "no logConfiguration: the container's output is not kept"
        elif driver != "awslogs":
            entry["note"] = f"log driver {driver}: not CloudWatch Logs, see that driver's destination"
        elif not options.get("awslogs-group"):
            entry["note"] = "awslogs without awslogs-group"
        else:
            entry["logGroup"] = options["awslogs-group"]
            region = options.get("awslogs-region") or task_region
            if region:
                entry["region"] = region
            prefix = options.get("awslogs-stream-prefix")
            if prefix:
                entry["logStream"] = f"{prefix}/{container}/{task_id(task_arn)}"
            else:
                entry["note"] = (
                    "awslogs without awslogs-stream-prefix: the stream is named after the Docker "
                    "container id, which ECS does not report"
                )
        found.append(entry)
    return found
