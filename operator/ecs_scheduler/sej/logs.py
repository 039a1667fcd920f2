"""`kubectl sej logs`: the CloudWatch Logs of a run's tasks, read with the user's AWS credentials.

For a run on demand the locations are in its status (the operator read the task definition);
for the job's last scheduled run they are worked out here the same way (DescribeTasks, then
DescribeTaskDefinition of the revision the tasks ran).
"""

import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3

from ecs_scheduler.adapters.ecs import log_configurations_of
from ecs_scheduler.core.arns import parse_arn
from ecs_scheduler.core.logs import log_locations

FOLLOW_INTERVAL = 2.0


def locations_in_run(run: dict[str, Any]) -> list[dict[str, str]]:
    """Every log location a run's status lists, instants in order."""
    status = run.get("status") or {}
    return [location for instant in status.get("instants") or [] for location in instant.get("logs") or []]


def locations_of_tasks(task_arns: list[str]) -> list[dict[str, str]]:
    """Log locations of tasks, from their task definitions (one DescribeTasks per cluster)."""
    by_cluster: dict[tuple[str, str], list[str]] = {}
    for arn in task_arns:
        parsed = parse_arn(arn)
        parts = arn.split("/")
        if parsed is None or len(parts) < 3:
            continue  # an old-format ARN names no cluster
        by_cluster.setdefault((parsed.region, parts[-2]), []).append(arn)
    found: list[dict[str, str]] = []
    for (region, cluster), arns in by_cluster.items():
        ecs = boto3.client("ecs", region_name=region)
        definitions: dict[str, dict[str, Any]] = {}
        for task in ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"]:
            definition_arn = task["taskDefinitionArn"]
            if definition_arn not in definitions:
                described = ecs.describe_task_definition(taskDefinition=definition_arn)["taskDefinition"]
                definitions[definition_arn] = log_configurations_of(described)
            found += log_locations(task["taskArn"], definitions[definition_arn])
    return found


def stream_events(location: dict[str, str], token: str | None) -> tuple[list[str], str | None]:
    """The events after `token` in one stream (all of them from the start without one)."""
    client = boto3.client("logs", region_name=location.get("region"))
    messages: list[str] = []
    while True:
        kwargs: dict[str, Any] = {
            "logGroupName": location["logGroup"],
            "logStreamName": location["logStream"],
        }
        kwargs.update({"nextToken": token} if token else {"startFromHead": True})
        try:
            page = client.get_log_events(**kwargs)
        except client.exceptions.ResourceNotFoundException:
            return messages, token  # not written yet (the task has not started logging)
        messages += [str(event["message"]) for event in page.get("events", [])]
        if page.get("nextForwardToken") in (None, token):
            return messages, token
        token = page["nextForwardToken"]


def print_logs(
    locations: list[dict[str, str]],
    *,
    container: str | None,
    follow: bool,
    finished: Callable[[], bool],
    write: Callable[[str], None],
) -> int:
    """Print the streams; with `follow`, keep reading until `finished()`. The number of
    locations that have no stream to read (said on stderr by the caller)."""
    wanted = [loc for loc in locations if container is None or loc["container"] == container]
    readable = [loc for loc in wanted if loc.get("logStream") and loc.get("logGroup")]
    prefix = len({(loc["taskId"], loc["container"]) for loc in readable}) > 1
    tokens: dict[int, str | None] = {}
    for done in _rounds(follow, finished):
        for index, location in enumerate(readable):
            messages, tokens[index] = stream_events(location, tokens.get(index))
            for message in messages:
                line = f"[{location['container']} {location['taskId'][:8]}] {message}" if prefix else message
                write(line.rstrip("\n") + "\n")
        if done:
            break
    return len(wanted) - len(readable)


def _rounds(follow: bool, finished: Callable[[], bool]) -> Iterator[bool]:
    """One round without follow; with it, rounds until finished, then one last round."""
    if not follow:
        yield True
        return
    while True:
        ended = finished()
        yield ended
        if ended:
            return
        time.sleep(FOLLOW_INTERVAL)


def only_container(job_spec: dict[str, Any]) -> str | None:
    """The container a run's environment and command are for, when the job does not say (the
    operator cannot know a task definition's containers; the user's credentials can read it):
    the task definition's only container. None when the operator can tell (a container job, one
    override) or the definition has several (the operator then says which field is missing)."""
    overrides = (job_spec.get("overrides") or {}).get("containerOverrides") or []
    if job_spec.get("container") or len(overrides) == 1 or not job_spec.get("taskDefinition"):
        return None
    ecs = boto3.client("ecs", region_name=job_spec.get("region"))
    containers = ecs.describe_task_definition(taskDefinition=job_spec["taskDefinition"])["taskDefinition"]
    names = [str(c["name"]) for c in containers.get("containerDefinitions", [])]
    return names[0] if len(names) == 1 else None
