"""One operator, several AWS accounts: a job with a role launches in the role's account, with
temporary credentials from STS, within the tenant policy; a denied role is reported once."""

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.awsproxy import AwsProxy
from tests.e2e.conftest import StartOperator
from tests.e2e.harness import KubeCluster, MotoServer, wait_for

pytestmark = [pytest.mark.e2e]

ACCOUNT_B = "222222222222"
ROLE_B = f"arn:aws:iam::{ACCOUNT_B}:role/ecs-scheduler-target"
ROLE_DENIED = f"arn:aws:iam::{ACCOUNT_B}:role/ecs-scheduler-untrusted"
ROLE_C = "arn:aws:iam::333333333333:role/ecs-scheduler-target"


@pytest.fixture(scope="module")
def account_b(moto: MotoServer) -> str:
    moto.prepare_ecs(account=ACCOUNT_B)
    return ACCOUNT_B


def assume_roles(aws: AwsProxy, role: str) -> list[dict[str, Any]]:
    return [c.body for c in aws.recorder.operations("AssumeRole") if c.body.get("RoleArn") == role]


def test_a_job_with_a_role_launches_in_that_account_only(
    kube: KubeCluster, aws: AwsProxy, moto: MotoServer, account_b: str, own_namespace: str,
    start_operator: StartOperator, workdir: Path,
) -> None:  # fmt: skip
    namespace = own_namespace
    policy = workdir / f"{namespace}-tenants.yaml"
    policy.write_text(
        f"namespaces:\n  {namespace}:\n    assumeRoles: ['arn:aws:iam::{ACCOUNT_B}:role/ecs-scheduler-*']\n"
        "    externalId: e2e-external-id\n"
    )
    aws.deny_roles.add(ROLE_DENIED)
    start_operator("--tenant-policy", str(policy))
    for name, role in (("in-b", ROLE_B), ("untrusted", ROLE_DENIED), ("foreign", ROLE_C), ("home", None)):
        kube.apply_job(namespace, name, {"taskDefinition": "sleeper-task", "schedule": "@every 1s",
                                         **({"roleArn": role} if role else {})})  # fmt: skip

    # In account B, with credentials from STS: the tasks are B's, not the operator's account's.
    wait_for(lambda: len(aws.recorder.run_tasks_for(f"{namespace}/in-b")) >= 3, timeout=20, what="runs in B")
    tasks = wait_for(lambda: kube.status(namespace, "in-b").get("lastRunTasks"), timeout=10, what="B's tasks")
    assert all(f":{ACCOUNT_B}:task/" in t["taskArn"] for t in tasks)
    in_b = moto.client("ecs", ACCOUNT_B).list_tasks(cluster="default", startedBy="ecs-scheduler")["taskArns"]
    assert {t["taskArn"] for t in tasks} <= set(in_b)
    home = wait_for(lambda: kube.status(namespace, "home").get("lastRunTasks"), timeout=10, what="home tasks")
    assert all(":123456789012:task/" in t["taskArn"] for t in home)
    (assumed, *more) = assume_roles(aws, ROLE_B)
    assert not more, "one session for every call of the role"
    assert assumed["RoleSessionName"] == f"ecs-scheduler-{namespace}"
    assert assumed["ExternalId"] == "e2e-external-id"
    active = kube.status(namespace, "in-b").get("active") or []
    assert all(run.get("roleArn") == ROLE_B for run in active)

    # A role outside the policy is never assumed.
    ready = wait_for(lambda: kube.ready(namespace, "foreign").get("reason") == "Forbidden" and kube.ready(namespace, "foreign"),
                     timeout=10, what="foreign Forbidden")  # fmt: skip
    assert ready["message"].startswith("spec.roleArn:")
    assert assume_roles(aws, ROLE_C) == [] and aws.recorder.run_tasks_for(f"{namespace}/foreign") == []

    # A role STS refuses: Ready=False with STS's message, one Warning however often it fires.
    ready = wait_for(lambda: kube.ready(namespace, "untrusted").get("reason") == "AssumeRoleFailed" and kube.ready(namespace, "untrusted"),
                     timeout=10, what="AssumeRoleFailed")  # fmt: skip
    assert ready["status"] == "False" and "not authorized to perform: sts:AssumeRole" in ready["message"]
    wait_for(lambda: len(assume_roles(aws, ROLE_DENIED)) >= 4, timeout=10, what="denied fires")
    warnings = [e for e in kube.events(namespace, "untrusted") if e.reason == "AssumeRoleFailed"]
    assert len(warnings) == 1 and warnings[0].type == "Warning" and (warnings[0].count or 1) == 1
    assert aws.recorder.run_tasks_for(f"{namespace}/untrusted") == [] and not kube.status(
        namespace, "untrusted"
    ).get("history")

    # Trusted again: the next fire assumes it, launches, and Ready clears.
    aws.deny_roles.discard(ROLE_DENIED)
    wait_for(
        lambda: kube.ready(namespace, "untrusted").get("status") == "True", timeout=15, what="Ready again"
    )
    wait_for(
        lambda: aws.recorder.run_tasks_for(f"{namespace}/untrusted"), timeout=10, what="launch after trust"
    )
