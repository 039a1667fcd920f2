"""docs/iam-policy.json grants exactly the AWS calls the adapters make, and no wildcard action."""

import ast
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
POLICY = json.loads((ROOT / "docs" / "iam-policy.json").read_text())


def granted() -> set[str]:
    actions: set[str] = set()
    for statement in POLICY["Statement"]:
        value = statement["Action"]
        actions.update([value] if isinstance(value, str) else value)
    return actions


def boto_calls() -> set[str]:
    """client.<operation>(...) calls in the adapters, as IAM action names."""
    services = {"ecs": "ecs", "sqs": "sqs"}
    calls: set[str] = set()
    for path in (ROOT / "operator" / "ecs_scheduler" / "adapters").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr[0].islower()
            ):
                name = node.func.attr
                camel = "".join(part.capitalize() for part in name.split("_"))
                if name in {"run_task", "describe_tasks", "stop_task", "list_tasks"}:
                    calls.add(f"{services['ecs']}:{camel}")
                if name in {"get_queue_attributes", "get_queue_url"}:
                    calls.add(f"{services['sqs']}:{camel}")
    return calls


def test_every_call_the_adapters_make_is_granted() -> None:
    assert boto_calls() <= granted(), boto_calls() - granted()


def test_least_privilege() -> None:
    assert granted() == {
        "ecs:RunTask", "ecs:DescribeTasks", "ecs:StopTask", "ecs:ListTasks",
        "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "iam:PassRole",
    }  # fmt: skip
    assert not any("*" in action for action in granted())
    pass_role = next(s for s in POLICY["Statement"] if s["Action"] == "iam:PassRole")
    assert pass_role["Resource"] != "*"
    assert pass_role["Condition"]["StringEquals"]["iam:PassedToService"] == "ecs-tasks.amazonaws.com"
