"""Jobs' roles: STS AssumeRole through botocore's refreshable credentials, against moto in server
mode (which derives the account from the assumed credentials), plus denials at the STS boundary."""

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from botocore.stub import Stubber
from dateutil.tz import tzutc

from ecs_scheduler.adapters.aws import ASSUME_ROLE_FAILED, AssumeRoleFailed, AwsClients
from ecs_scheduler.adapters.ecs import Boto3Ecs
from ecs_scheduler.model.aws import AssumedRole, AwsScope
from ecs_scheduler.model.launch import RunTaskCall

ROLE = AssumedRole("arn:aws:iam::222222222222:role/ecs-scheduler-target", "ecs-scheduler-team-b", "team-b-id")


class Clock:
    """What the refreshable credentials take for now: real time plus a shift a test moves."""

    def __init__(self) -> None:
        self.shift = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(tzutc()) + self.shift


@pytest.fixture
def told() -> list[tuple[str, str]]:
    return []


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def clients(
    moto_url: str, told: list[tuple[str, str]], clock: Clock, monkeypatch: Any
) -> Iterator[AwsClients]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "operator")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "operator")
    aws = AwsClients(
        default_region="eu-west-1", endpoint_url=moto_url, concurrency=2, max_attempts=2,
        assume_roles=lambda arn, outcome: told.append((arn, outcome)), role_duration=3600, time_fetcher=clock,
    )  # fmt: skip
    yield aws
    aws.close()


def test_calls_with_a_role_land_in_its_account_with_one_assume_role(
    clients: AwsClients, told: list[tuple[str, str]]
) -> None:
    in_b = clients.client("ecs", AwsScope("eu-west-1", ROLE))
    in_b.create_cluster(clusterName="team-b")
    for _ in range(5):
        assert in_b.list_clusters()["clusterArns"] == ["arn:aws:ecs:eu-west-1:222222222222:cluster/team-b"]
    clients.client("sqs", AwsScope("eu-west-1", ROLE)).list_queues()
    clients.client("ecs", AwsScope("us-east-2", ROLE)).list_clusters()
    own = clients.client("ecs", AwsScope("eu-west-1")).list_clusters()["clusterArns"]
    assert "arn:aws:ecs:eu-west-1:222222222222:cluster/team-b" not in own
    assert told == [(ROLE.arn, "success")], "one session per role, shared by its clients in every region"
    assert clients.client("ecs", AwsScope("eu-west-1", ROLE)) is in_b


def test_credentials_are_refreshed_before_they_expire(
    clients: AwsClients, told: list[tuple[str, str]], clock: Clock
) -> None:
    ecs = clients.client("ecs", AwsScope("eu-west-1", ROLE))
    ecs.list_clusters()
    clock.shift = timedelta(minutes=30)  # 30 minutes left of 60: no refresh yet
    ecs.list_clusters()
    assert len(told) == 1
    clock.shift = timedelta(minutes=50)  # within botocore's 15-minute advisory window
    ecs.list_clusters()
    assert told == [(ROLE.arn, "success")] * 2


class DeniedSts(AwsClients):
    """STS answers AccessDenied (moto never denies): stubbed at the STS client the fetcher creates,
    checking the request the operator sends."""

    def _sts_client(self, service: str, **kwargs: Any) -> Any:
        client = super()._sts_client(service, **kwargs)
        stub = Stubber(client)
        stub.add_client_error(
            "assume_role", "AccessDenied", "not authorized to perform: sts:AssumeRole", http_status_code=403,
            expected_params={"RoleArn": ROLE.arn, "RoleSessionName": "ecs-scheduler-team-b",
                             "ExternalId": "team-b-id", "DurationSeconds": 3600},
        )  # fmt: skip
        stub.activate()
        return client


def test_a_denied_role_is_a_certain_launch_failure_with_sts_message(
    moto_url: str, told: list[tuple[str, str]], monkeypatch: Any
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "operator")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "operator")
    clients = DeniedSts(default_region="eu-west-1", endpoint_url=moto_url, concurrency=1, max_attempts=1,
                        observer=lambda *call: None,  # as in the operator: its hook must not trip
                        assume_roles=lambda arn, outcome: told.append((arn, outcome)))  # fmt: skip
    call = RunTaskCall(
        AwsScope("eu-west-1", ROLE), {"cluster": "c", "taskDefinition": "t", "count": 1, "clientToken": "x"}
    )

    async def launch() -> Any:
        return await Boto3Ecs(clients).run_task(call)

    try:
        (failure,) = asyncio.run(launch()).failures
        with pytest.raises(AssumeRoleFailed) as caught:
            clients.client("sqs", AwsScope("eu-west-1", ROLE)).list_queues()
    finally:
        clients.close()
    assert failure.reason == ASSUME_ROLE_FAILED and not failure.uncertain
    assert failure.detail == "AccessDenied: not authorized to perform: sts:AssumeRole"
    assert caught.value.code == "AccessDenied" and ROLE.arn in str(caught.value)
    assert told == [(ROLE.arn, "AccessDenied")] * 2, (
        "every attempt is counted; nothing is cached after a denial"
    )
