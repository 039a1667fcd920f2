"""Where a task's output is, from its task definition's log configuration."""

from typing import Any

import pytest

from ecs_scheduler.adapters.ecs import log_configurations_of
from ecs_scheduler.core.logs import log_locations

TASK = "arn:aws:ecs:eu-west-1:123456789012:task/prod/0f1e2d3c4b5a69788796a5b4c3d2e1f0"
TASK_ID = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def definition(*containers: tuple[str, dict[str, Any] | None]) -> dict[str, Any]:
    return {"containerDefinitions": [{"name": name, **({"logConfiguration": log} if log else {})}
                                     for name, log in containers]}  # fmt: skip


def awslogs(**options: str) -> dict[str, Any]:
    return {
        "logDriver": "awslogs",
        "options": {f"awslogs-{k.replace('_', '-')}": v for k, v in options.items()},
    }


@pytest.mark.parametrize(
    ("log", "expected"),
    [
        (awslogs(group="/ecs/etl", region="us-east-1", stream_prefix="etl"),
         {"logGroup": "/ecs/etl", "region": "us-east-1", "logStream": f"etl/app/{TASK_ID}"}),
        # No region in the options: the task's own (from its ARN).
        (awslogs(group="/ecs/etl", stream_prefix="etl"),
         {"logGroup": "/ecs/etl", "region": "eu-west-1", "logStream": f"etl/app/{TASK_ID}"}),
        (awslogs(group="/ecs/etl"), {"logGroup": "/ecs/etl", "region": "eu-west-1",
                                     "note": "awslogs without awslogs-stream-prefix: the stream is named after "
                                             "the Docker container id, which ECS does not report"}),
        ({"logDriver": "splunk", "options": {}},
         {"note": "log driver splunk: not CloudWatch Logs, see that driver's destination"}),
        (None, {"note": "no logConfiguration: the container's output is not kept"}),
    ],
)  # fmt: skip
def test_each_container_says_where_its_log_is_or_why_not(
    log: dict[str, Any] | None, expected: dict[str, str]
) -> None:
    (location,) = log_locations(TASK, log_configurations_of(definition(("app", log))))
    assert location == {"taskId": TASK_ID, "container": "app", **expected}


def test_every_container_of_the_task_is_listed_in_definition_order() -> None:
    configs = log_configurations_of(
        definition(("app", awslogs(group="g", stream_prefix="p")), ("sidecar", None))
    )
    assert [entry["container"] for entry in log_locations(TASK, configs)] == ["app", "sidecar"]
