"""docs/iam-policy.json grants exactly the AWS calls the adapters make, and no wildcard action."""

import ast
import json
from pathlib import Path

import botocore.session

ROOT = Path(__file__).resolve().parents[2]
POLICY = json.loads((ROOT / "docs" / "iam-policy.json").read_text())


def granted() -> set[str]:
    actions: set[str] = set()
    for statement in POLICY["Statement"]:
        value = statement["Action"]
        actions.update([value] if isinstance(value, str) else value)
    return actions


def boto_calls() -> set[str]:
    """Every ECS, SQS or SNS operation the adapters call (client.<operation>(...) or a paginator),
    named as IAM names it, found through botocore's own service models."""
    session = botocore.session.get_session()
    operations: dict[str, set[str]] = {}
    for service in ("ecs", "sqs", "sns"):
        client = session.create_client(
            service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        for method, api in client.meta.method_to_api_mapping.items():
            # IAM authorises a batch call with its single action (sqs:DeleteMessage for DeleteMessageBatch).
            operations.setdefault(method, set()).add(f"{service}:{api.removesuffix('Batch')}")
    calls: set[str] = set()
    for path in (ROOT / "operator" / "ecs_scheduler" / "adapters").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            name = node.func.attr
            if name == "get_paginator" and node.args and isinstance(node.args[0], ast.Constant):
                name = str(node.args[0].value)
            calls.update(operations.get(name, set()))
    return calls


def test_every_call_the_adapters_make_is_granted() -> None:
    assert boto_calls() <= granted(), boto_calls() - granted()


def test_least_privilege() -> None:
    assert granted() == {
        "ecs:RunTask", "ecs:DescribeTasks", "ecs:StopTask", "ecs:ListTasks", "ecs:DescribeTaskDefinition",
        "ecs:ListTaskDefinitions", "ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition",
        "ecs:TagResource", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "iam:PassRole", "sts:AssumeRole",
        "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:SendMessage", "sns:Publish",
    }  # fmt: skip
    assert not any("*" in action for action in granted())
    pass_role = next(s for s in POLICY["Statement"] if s["Action"] == "iam:PassRole")
    assert pass_role["Resource"] != "*"
    assert pass_role["Condition"]["StringEquals"]["iam:PassedToService"] == "ecs-tasks.amazonaws.com"
    tagging = next(s for s in POLICY["Statement"] if s["Action"] == "ecs:TagResource")
    assert tagging["Condition"]["StringEquals"]["ecs:CreateAction"] == "RegisterTaskDefinition"
    assert tagging["Resource"].endswith("task-definition/ecs-scheduler_*")  # only the operator's families


def test_target_roles_trust_the_operator_with_an_external_id() -> None:
    trust = json.loads((ROOT / "docs" / "iam-target-role-trust.json").read_text())
    (statement,) = trust["Statement"]
    assert statement["Action"] == "sts:AssumeRole"
    assert "sts:ExternalId" in statement["Condition"]["StringEquals"]
    assert statement["Condition"]["StringLike"]["sts:RoleSessionName"].startswith("ecs-scheduler-")


def test_the_adapters_calls_are_found() -> None:
    assert {
        "ecs:RunTask",
        "ecs:ListTasks",
        "ecs:DescribeTaskDefinition",
        "ecs:RegisterTaskDefinition",
        "ecs:DeregisterTaskDefinition",
        "sqs:GetQueueAttributes",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:SendMessage",
        "sns:Publish",
    } <= boto_calls()


def test_reading_task_events_is_limited_to_the_events_queue() -> None:
    reading = next(s for s in POLICY["Statement"] if "sqs:ReceiveMessage" in s["Action"])
    assert reading["Resource"].endswith(":ecs-scheduler-task-events")
