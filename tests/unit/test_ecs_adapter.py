"""The ECS adapter at its boundary, with botocore's Stubber: batching, caching, pagination."""

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from ecs_scheduler.adapters.aws import AwsClients
from ecs_scheduler.adapters.ecs import Boto3Ecs
from ecs_scheduler.model.aws import AwsScope
from ecs_scheduler.model.launch import RunTaskOutcome

CLUSTER = "default"


@pytest.fixture
def clients() -> Iterator[AwsClients]:
    aws = AwsClients(default_region="us-east-1", endpoint_url=None, concurrency=2, max_attempts=1)
    yield aws
    aws.close()


def arn(n: int) -> str:
    return f"arn:aws:ecs:us-east-1:123456789012:task/default/{n:032x}"


def test_describe_tasks_takes_at_most_100_arns_per_call(clients: AwsClients) -> None:
    arns = [arn(n) for n in range(250)]
    with Stubber(clients.client("ecs", AwsScope(None))) as stub:
        for start in (0, 100, 200):
            batch = arns[start : start + 100]
            stub.add_response(
                "describe_tasks",
                {"tasks": [{"taskArn": a, "lastStatus": "RUNNING"} for a in batch]},
                {"cluster": CLUSTER, "tasks": batch},
            )
        found = asyncio.run(
            Boto3Ecs(clients).describe_tasks(cluster=CLUSTER, scope=AwsScope(None), arns=arns)
        )
        stub.assert_no_pending_responses()
    assert [t["taskArn"] for t in found] == arns


def test_essential_containers_are_read_once_per_revision(clients: AwsClients) -> None:
    definition = {
        "taskDefinition": {
            "containerDefinitions": [
                {"name": "app", "image": "x", "essential": True},
                {"name": "logs", "image": "x", "essential": False},
                {"name": "proxy", "image": "x"},
            ]
        }
    }
    ecs = Boto3Ecs(clients)

    async def twice() -> list[Any]:
        return [
            await ecs.essential_containers(scope=AwsScope(None), task_definition_arn="app:3")
            for _ in range(2)
        ]

    with Stubber(clients.client("ecs", AwsScope(None))) as stub:
        stub.add_response("describe_task_definition", definition, {"taskDefinition": "app:3"})
        assert asyncio.run(twice()) == [frozenset({"app", "proxy"})] * 2
        stub.assert_no_pending_responses()


def test_an_unreadable_task_definition_makes_every_container_count(clients: AwsClients) -> None:
    with Stubber(clients.client("ecs", AwsScope(None))) as stub:
        stub.add_client_error("describe_task_definition", "AccessDeniedException", "not allowed")
        found = asyncio.run(
            Boto3Ecs(clients).essential_containers(scope=AwsScope(None), task_definition_arn="app:3")
        )
    assert found is None


def test_list_tasks_covers_running_and_stopped_pages(clients: AwsClients) -> None:
    with Stubber(clients.client("ecs", AwsScope(None))) as stub:
        expected = {"cluster": CLUSTER, "startedBy": "ecs-scheduler", "desiredStatus": "RUNNING"}
        stub.add_response("list_tasks", {"taskArns": [arn(1)], "nextToken": "t"}, expected)
        stub.add_response("list_tasks", {"taskArns": [arn(2)]}, {**expected, "nextToken": "t"})
        stub.add_response(
            "list_tasks", {"taskArns": [arn(2), arn(3)]}, {**expected, "desiredStatus": "STOPPED"}
        )
        found = asyncio.run(
            Boto3Ecs(clients).list_tasks(cluster=CLUSTER, scope=AwsScope(None), started_by="ecs-scheduler")
        )
        stub.assert_no_pending_responses()
    assert found == [arn(1), arn(2), arn(3)]


def test_stop_task_reason_fits_ecs_limit(clients: AwsClients) -> None:
    with Stubber(clients.client("ecs", AwsScope(None))) as stub:
        stub.add_response(
            "stop_task", {"task": {}}, {"cluster": CLUSTER, "task": arn(1), "reason": "x" * 255}
        )
        asyncio.run(
            Boto3Ecs(clients).stop_task(cluster=CLUSTER, scope=AwsScope(None), arn=arn(1), reason="x" * 300)
        )
        stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("code", "status", "uncertain"),
    [
        ("ClusterNotFoundException", 400, False),
        ("ThrottlingException", 400, False),
        ("ServerException", 500, True),
    ],
)
def test_only_answers_that_may_hide_started_tasks_are_uncertain(
    clients: AwsClients, code: str, status: int, uncertain: bool
) -> None:
    from ecs_scheduler.model.launch import RunTaskCall

    with Stubber(clients.client("ecs", AwsScope(None))) as stub:
        stub.add_client_error("run_task", code, "no", http_status_code=status)
        call = RunTaskCall(
            AwsScope(None), {"cluster": CLUSTER, "taskDefinition": "app", "count": 1, "clientToken": "t"}
        )

        async def send() -> RunTaskOutcome:
            return await Boto3Ecs(clients).run_task(call)

        outcome = asyncio.run(send())
    (failure,) = outcome.failures
    assert (failure.reason, failure.uncertain) == (code, uncertain)


def test_run_task_is_sent_when_called_not_when_awaited(clients: AwsClients) -> None:
    """A burst hands every RunTask over before awaiting any answer; the adapter must not defer
    the call to the await."""
    from ecs_scheduler.model.launch import RunTaskCall

    response = {"tasks": [{"taskArn": arn(1), "lastStatus": "PROVISIONING"}], "failures": []}
    call = RunTaskCall(
        AwsScope(None), {"cluster": CLUSTER, "taskDefinition": "app", "count": 1, "clientToken": "t"}
    )
    with Stubber(clients.client("ecs", AwsScope(None))) as stub:
        stub.add_response("run_task", response)

        async def send_then_wait() -> RunTaskOutcome:
            pending = Boto3Ecs(clients).run_task(call)
            deadline = time.monotonic() + 5
            while True:  # the event loop is blocked here: only the pool can answer the stub
                try:
                    stub.assert_no_pending_responses()
                    break
                except AssertionError:
                    assert time.monotonic() < deadline, "RunTask was not sent before the await"
                    time.sleep(0.01)  # noqa: ASYNC251 (blocking on purpose: only the pool may run)
            return await pending

        assert asyncio.run(send_then_wait()).task_arns == (arn(1),)
