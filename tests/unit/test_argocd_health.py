"""The Argo CD health check runs in a real Lua runtime against sample resources."""

from pathlib import Path
from typing import Any

import pytest
from lupa import LuaRuntime

SCRIPT = (Path(__file__).resolve().parents[2] / "docs" / "argocd-health.lua").read_text()


def health(obj: dict[str, Any]) -> tuple[str, str]:
    lua = LuaRuntime(unpack_returned_tuples=True)

    def convert(value: Any) -> Any:
        if isinstance(value, dict):
            return lua.table_from({k: convert(v) for k, v in value.items()})
        if isinstance(value, list):
            return lua.table_from([convert(v) for v in value])
        return value

    lua.globals().obj = convert(obj)
    result = lua.execute(SCRIPT)
    return result["status"], result["message"]


def job(
    *,
    suspended: bool = False,
    generation: int = 1,
    observed: int | None = 1,
    ready: dict[str, str] | None = None,
) -> dict[str, Any]:
    obj: dict[str, Any] = {"metadata": {"generation": generation}, "spec": {"suspended": suspended}}
    if ready is not None:
        obj["status"] = {"observedGeneration": observed, "conditions": [{"type": "Ready", **ready}]}
    return obj


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (job(ready={"status": "True", "reason": "Scheduled", "message": "next run at x"}), "Healthy"),
        (job(ready={"status": "True", "reason": "Finished", "message": "done"}), "Healthy"),
        (job(suspended=True, ready={"status": "False", "reason": "Suspended", "message": ""}), "Suspended"),
        (
            job(ready={"status": "False", "reason": "InvalidSpec", "message": "spec.schedule: bad"}),
            "Degraded",
        ),
        (job(ready={"status": "False", "reason": "LaunchFailed", "message": "RESOURCE:MEMORY"}), "Degraded"),
        (
            job(ready={"status": "False", "reason": "Forbidden", "message": "spec.cluster: not allowed"}),
            "Degraded",
        ),
        (job(ready={"status": "False", "reason": "TriggerError", "message": "AccessDenied"}), "Degraded"),
        (job(ready={"status": "False", "reason": "AssumeRoleFailed", "message": "AccessDenied"}), "Degraded"),
        (job(ready={"status": "False", "reason": "TaskDefinitionFailed", "message": "denied"}), "Degraded"),
        (job(), "Progressing"),
        (
            job(generation=2, observed=1, ready={"status": "True", "reason": "Scheduled", "message": ""}),
            "Progressing",
        ),
    ],
)
def test_health(obj: dict[str, Any], expected: str) -> None:
    assert health(obj)[0] == expected


def test_message_is_the_condition_message() -> None:
    assert (
        health(job(ready={"status": "False", "reason": "InvalidSpec", "message": "spec.timeZone: unknown"}))[
            1
        ]
        == "spec.timeZone: unknown"
    )
