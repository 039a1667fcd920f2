"""Outcome classification of tasks and runs, from DescribeTasks entries as ECS writes them."""

from typing import Any

import pytest

from ecs_scheduler.core.tasks import (
    RunVerdict,
    TaskReport,
    run_verdict,
    task_report,
    task_verdict,
    unknown_task,
)

ARN = "arn:aws:ecs:us-east-1:123456789012:task/default/0123abcd"


def described(
    status: str = "STOPPED", stop_code: str | None = "EssentialContainerExited", **exits: int | None
) -> dict[str, Any]:
    return {
        "taskArn": ARN,
        "lastStatus": status,
        "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/app:3",
        "stopCode": stop_code,
        "stoppedReason": "Essential container in task exited" if stop_code else None,
        "containers": [
            {"name": name, **({"exitCode": code} if code is not None else {})} for name, code in exits.items()
        ],
        "startedAt": "2026-11-22T05:00:01Z",
        "stoppedAt": "2026-11-22T05:01:00Z" if status == "STOPPED" else None,
    }


@pytest.mark.parametrize(
    ("name", "raw", "essentials", "outcome", "reason_part", "code"),
    [
        ("running", described("RUNNING", None, app=None), None, None, "", ""),
        ("all exited 0", described(app=0, sidecar=0), None, "Succeeded", "", ""),
        ("essential non-zero", described(app=3, sidecar=0), None, "Failed", "container app exited with code 3", "EssentialContainerExited"),
        ("only a non-essential failed", described(app=0, logs=1), frozenset({"app"}), "Succeeded", "", ""),
        ("non-essential failure counts without the task definition", described(app=0, logs=1), None, "Failed", "container logs exited with code 1", "EssentialContainerExited"),
        ("spot interruption", described(stop_code="SpotInterruption", app=143), None, "Failed", "SpotInterruption", "SpotInterruption"),
        ("failed to start, no exit code", described(stop_code="TaskFailedToStart", app=None), None, "Failed", "TaskFailedToStart", "TaskFailedToStart"),
        ("stopped by a user", described(stop_code="UserInitiated", app=143), None, "Failed", "UserInitiated", "UserInitiated"),
        ("stopped with no containers reported", described(app=None), None, "Failed", "Essential container in task exited", "EssentialContainerExited"),
    ],
)  # fmt: skip
def test_task_verdicts(
    name: str,
    raw: dict[str, Any],
    essentials: frozenset[str] | None,
    outcome: str | None,
    reason_part: str,
    code: str,
) -> None:
    verdict = task_verdict(task_report(raw), essentials)
    if outcome is None:
        assert verdict is None
        return
    assert verdict is not None
    assert (verdict.outcome, verdict.code) == (outcome, code)
    assert reason_part in verdict.reason


def test_a_task_ecs_forgot_is_unknown_never_a_success() -> None:
    verdict = task_verdict(unknown_task(ARN), None)
    assert verdict is not None and verdict.outcome == "Unknown"
    assert "no longer reports" in verdict.reason


def test_report_keeps_what_status_shows() -> None:
    report = task_report(described(app=0))
    assert report.finished and report.started_at is not None and report.stopped_at is not None
    assert report.stop_code == "EssentialContainerExited"
    assert not TaskReport(ARN, "DEPROVISIONING").finished


def ok() -> Any:
    return task_verdict(task_report(described(app=0)), None)


def failed(code: str = "SpotInterruption") -> Any:
    return task_verdict(task_report(described(stop_code=code, app=143)), None)


def unknown() -> Any:
    return task_verdict(unknown_task(ARN), None)


@pytest.mark.parametrize(
    ("name", "verdicts", "not_started", "launch_failures", "expected_outcome", "expected_codes"),
    [
        ("all succeeded", [ok(), ok()], 0, [], "Succeeded", ()),
        ("one failed", [ok(), failed()], 0, [], "Failed", ("SpotInterruption",)),
        ("failed beats unknown", [unknown(), failed()], 0, [], "Failed", ("SpotInterruption",)),
        ("unknown beats success", [ok(), unknown()], 0, [], "Unknown", ()),
        ("not started counts as failed", [ok()], 2, ["RESOURCE:MEMORY"], "Failed", ("RESOURCE:MEMORY", "RESOURCE:MEMORY")),
        ("nothing started", [], 3, ["ClusterNotFoundException"], "Failed", ("ClusterNotFoundException",) * 3),
    ],
)  # fmt: skip
def test_run_verdicts(
    name: str,
    verdicts: list[Any],
    not_started: int,
    launch_failures: list[str],
    expected_outcome: str,
    expected_codes: tuple[str, ...],
) -> None:
    verdict = run_verdict(verdicts, not_started=not_started, launch_failures=launch_failures)
    assert isinstance(verdict, RunVerdict)
    assert (verdict.outcome, verdict.failure_codes) == (expected_outcome, expected_codes)
    assert verdict.reason


def test_run_reason_says_how_many_more_failed() -> None:
    verdict = run_verdict([failed(), failed("TaskFailedToStart")], not_started=0, launch_failures=[])
    assert verdict.reason.endswith("(and 1 more)")


def test_a_sidecar_s_exit_code_is_shown_though_only_essential_containers_decide() -> None:
    from datetime import UTC, datetime

    from ecs_scheduler.core.notify import cloud_event
    from ecs_scheduler.core.plan import JobIdentity
    from ecs_scheduler.core.tasks import task_report, task_verdict
    from ecs_scheduler.model.aws import AwsScope
    from ecs_scheduler.model.job import JobKey
    from ecs_scheduler.runtime.runs import Run

    raw = {"taskArn": "arn:aws:ecs:us-east-1:1:task/c/t1", "lastStatus": "STOPPED", "stopCode": "EssentialContainerExited",
           "containers": [{"name": "app", "exitCode": 0}, {"name": "log-router", "exitCode": 137, "reason": "OOM"}]}  # fmt: skip
    report = task_report(raw)
    assert (
        task_verdict(report, frozenset({"app"})) is not None
        and task_verdict(report, frozenset({"app"})).outcome == "Succeeded"
    )
    run = Run(
        JobKey("ns", "job"),
        datetime(2026, 11, 23, tzinfo=UTC),
        "c",
        AwsScope("us-east-1"),
        reports={report.arn: report},
    )
    (shown,) = run.tasks_status()
    assert shown["containers"] == [
        {"name": "app", "exitCode": 0},
        {"name": "log-router", "exitCode": 137, "reason": "OOM"},
    ]
    record = run.record("Succeeded", "", tasks=1, finished=datetime(2026, 11, 23, 0, 1, tzinfo=UTC))
    event = cloud_event(JobIdentity("ns", "job", "uid"), record, run="r", now=datetime(2026, 11, 23, tzinfo=UTC),
                        tasks=run.tasks_status())  # fmt: skip
    assert '"exitCode":137' in event.payload.replace(" ", "")
