"""The test API server prints custom resources as kube-apiserver does (for `kubectl get`)."""

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "apiserver"))
import tables


@pytest.mark.parametrize(
    ("seconds", "printed"),
    [  # apimachinery's duration.HumanDuration, case by case
        (-5, "<invalid>"), (-1, "0s"), (0, "0s"), (59, "59s"), (119, "119s"), (120, "2m"), (150, "2m30s"),
        (599, "9m59s"), (600, "10m"), (3 * 3600 - 1, "179m"), (3 * 3600, "3h"), (3 * 3600 + 60, "3h1m"),
        (8 * 3600, "8h"), (47 * 3600, "47h"), (48 * 3600, "2d"), (49 * 3600, "2d1h"), (8 * 86400, "8d"),
        (2 * 365 * 86400, "2y"), (2 * 365 * 86400 + 86400, "2y1d"), (9 * 365 * 86400, "9y"),
    ],
)  # fmt: skip
def test_human_duration(seconds: int, printed: str) -> None:
    assert tables.human_duration(seconds) == printed


JOB = {
    "metadata": {"name": "nightly", "namespace": "team"},
    "spec": {"schedule": "*/5", "suspended": False},
    "status": {"conditions": [{"type": "Other", "status": "False"}, {"type": "Ready", "status": "True"}]},
}


@pytest.mark.parametrize(
    ("path", "found"),
    [
        (".spec.schedule", ["*/5"]),
        (".spec.suspended", [False]),
        (".status.lastRun", []),
        ('.status.conditions[?(@.type=="Ready")].status', ["True"]),
        ('.status.conditions[?(@.type=="Missing")].status', []),
    ],
)
def test_jsonpath(path: str, found: list[object]) -> None:
    assert tables.evaluate(JOB, path) == found


def test_rows_follow_the_printer_columns() -> None:
    soon = (datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    job = {**JOB, "status": {**JOB["status"], "estimatedNextRun": soon}}
    columns = [
        {"name": "Schedule", "type": "string", "jsonPath": ".spec.schedule"},
        {"name": "Suspended", "type": "boolean", "jsonPath": ".spec.suspended"},
        {"name": "Last Run", "type": "date", "jsonPath": ".status.lastRun"},
        {"name": "Next Run", "type": "date", "jsonPath": ".status.estimatedNextRun"},
    ]
    (row,) = tables.table(columns, [job], "7")["rows"]
    assert row["cells"] == ["nightly", "*/5", False, None, "<invalid>"], "a future date prints <invalid>"
    assert row["object"]["metadata"]["namespace"] == "team"


@pytest.mark.parametrize(
    ("selector", "selected"),
    [
        ("", True),
        ("involvedObject.name=x", True),
        ("involvedObject.name==x,involvedObject.kind=ScheduledEcsJob", True),
        ("involvedObject.name=y", False),
        ("involvedObject.name!=y", True),
        ("involvedObject.name!=x", False),
        ("involvedObject.uid=", True),  # absent reads as empty, as in Kubernetes
        ("metadata.namespace=team,involvedObject.name=y", False),
    ],
)
def test_field_selectors_pick_a_job_s_events(selector: str, selected: bool) -> None:
    from kubeapi import field_selected

    event = {
        "metadata": {"namespace": "team", "name": "x.1"},
        "involvedObject": {"name": "x", "kind": "ScheduledEcsJob"},
    }
    assert field_selected(event, selector) is selected
