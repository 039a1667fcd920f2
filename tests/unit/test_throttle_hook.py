"""Every throttled attempt is reported (before botocore's standard retry resends it), over real
HTTP to an ECS stand-in whose RunTask bucket holds one token and refills slowly."""

from typing import Any

from bench.awsstandin import AwsStandIn

from ecs_scheduler.adapters.aws import AwsClients
from ecs_scheduler.model.aws import AwsScope
from tests.e2e.awsproxy import EcsBuckets

REQUEST: dict[str, Any] = {"cluster": "c", "taskDefinition": "t:1", "count": 1, "clientToken": "x" * 32}


def test_each_throttled_attempt_is_told_with_its_operation_and_scope(monkeypatch: Any) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    stand_in = AwsStandIn(EcsBuckets({"RunTask": (0.001, 1)}))
    told: list[tuple[str, AwsScope]] = []
    clients = AwsClients(
        default_region="eu-west-1",
        endpoint_url=stand_in.url,
        concurrency=1,
        max_attempts=3,
        throttles=lambda operation, scope: told.append((operation, scope)),
    )
    try:
        ecs = clients.client("ecs", AwsScope(None))
        ecs.run_task(**REQUEST)  # the bucket's one token
        try:
            ecs.run_task(**REQUEST)
        except ecs.exceptions.ClientError as error:
            assert error.response["Error"]["Code"] == "ThrottlingException"
        ecs.describe_tasks(cluster="c", tasks=["a"])  # another bucket: not throttled
    finally:
        clients.close()
        stand_in.close()
    assert stand_in.buckets is not None
    throttled = stand_in.buckets.throttled["RunTask"]
    assert throttled >= 3  # the first attempt and botocore's retries of it
    assert told == [("RunTask", AwsScope("eu-west-1"))] * throttled  # each attempt told, nothing else
