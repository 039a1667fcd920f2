"""ECS Task State Change events: parsing, and applying them to runs (duplicates, order, foreign)."""

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from bench.task_events import task_event

from ecs_scheduler.core.taskevents import DETAIL_TYPE, SOURCE, Malformed, TaskEvent, parse_task_event
from ecs_scheduler.core.tasks import TaskReport
from ecs_scheduler.model.aws import AwsScope
from ecs_scheduler.model.job import JobKey
from ecs_scheduler.runtime.metrics import Metrics
from ecs_scheduler.runtime.runs import Run
from ecs_scheduler.runtime.tracker import Tracker
from tests.unit.test_tracker import FakeEcs

CLUSTER = "arn:aws:ecs:us-east-1:123456789012:cluster/default"


def task_arn(name: str) -> str:
    return f"arn:aws:ecs:us-east-1:123456789012:task/default/{name}"


def event_body(
    task: str,
    status: str,
    version: int,
    *,
    started_by: str = "ecs-scheduler",
    cluster: str = CLUSTER,
    exit_code: int | None = None,
    event_id: str | None = None,
) -> str:
    container: dict[str, Any] = {"name": "app", "lastStatus": status}
    if exit_code is not None:
        container["exitCode"] = exit_code
    detail: dict[str, Any] = {
        "taskArn": task_arn(task),
        "clusterArn": cluster,
        "lastStatus": status,
        "desiredStatus": "RUNNING",
        "startedBy": started_by,
        "version": version,
        "containers": [container],
        "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/app:1",
    }
    if status == "STOPPED":
        detail.update(
            stopCode="EssentialContainerExited",
            stoppedReason="Essential container in task exited",
            stoppedAt="2026-11-23T10:00:05.123Z",
        )
    return json.dumps({"version": "0", "id": event_id or f"{task}-{version}", "detail-type": "ECS Task State Change",
                       "source": "aws.ecs", "account": "123456789012", "region": "us-east-1", "detail": detail})  # fmt: skip


def test_a_stopped_event_reads_as_describe_tasks_would() -> None:
    event = parse_task_event(event_body("t1", "STOPPED", 5, exit_code=3))
    assert (event.task_arn, event.version, event.started_by) == (task_arn("t1"), 5, "ecs-scheduler")
    assert event.report.last_status == "STOPPED" and event.report.stop_code == "EssentialContainerExited"
    assert event.report.containers[0].exit_code == 3
    assert event.report.stopped_at == datetime(2026, 11, 23, 10, 0, 5, 123000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        (
            json.dumps({"source": "aws.ec2", "detail-type": "EC2 Instance State-change Notification"}),
            "not an ECS",
        ),
        (json.dumps({"source": "aws.ecs", "detail-type": "ECS Task State Change", "detail": {}}), "taskArn"),
        (
            json.dumps(
                {
                    "source": "aws.ecs",
                    "detail-type": "ECS Task State Change",
                    "detail": {"taskArn": "t", "version": "7"},
                }
            ),
            "version",
        ),
        (
            json.dumps(
                {
                    "source": "aws.ecs",
                    "detail-type": "ECS Task State Change",
                    "detail": {"taskArn": "t", "containers": 5},
                }
            ),
            "unreadable",
        ),
    ],
)
def test_malformed_messages_say_why(body: str, says: str) -> None:
    with pytest.raises(Malformed, match=says):
        parse_task_event(body)


def tracked(*tasks: str) -> tuple[Tracker, Run]:
    tracker = Tracker(FakeEcs(), Metrics())
    run = Run(JobKey("ns", "job"), datetime(2026, 11, 23, tzinfo=UTC), "default", AwsScope("us-east-1"),
              reports={task_arn(t): TaskReport(task_arn(t), "PROVISIONING") for t in tasks})  # fmt: skip
    tracker.add(run)
    return tracker, run


def events(*bodies: str) -> list[TaskEvent]:
    return [parse_task_event(body) for body in bodies]


def test_reordered_and_repeated_events_end_in_the_newest_state() -> None:
    tracker, run = tracked("t1")
    batch = events(event_body("t1", "STOPPED", 4, exit_code=0), event_body("t1", "RUNNING", 2),
                   event_body("t1", "PENDING", 1))  # fmt: skip
    result = tracker.apply_events(batch, started_by="ecs-scheduler")
    assert run.reports[task_arn("t1")].last_status == "STOPPED" and run.finished
    assert (result.applied, result.stale, result.foreign) == (3, 0, 0), "applied oldest first"
    again = tracker.apply_events(events(event_body("t1", "RUNNING", 2)), started_by="ecs-scheduler")
    assert (again.applied, again.stale, again.changed) == (0, 1, [])
    assert run.reports[task_arn("t1")].last_status == "STOPPED"


def test_an_event_repeated_after_its_run_ended_is_stale_not_foreign() -> None:
    # EventBridge delivers at least once: a STOPPED event may come again once the run is recorded
    # and no longer tracked. That is an ordinary repeat, not a sign of a misconfigured rule.
    tracker, run = tracked("t1")
    tracker.apply_events(events(event_body("t1", "STOPPED", 4, exit_code=0)), started_by="ecs-scheduler")
    tracker.remove(run)  # concluded
    again = tracker.apply_events(events(event_body("t1", "STOPPED", 4, exit_code=0, event_id="redelivered")),
                                 started_by="ecs-scheduler")  # fmt: skip
    assert (again.stale, again.foreign, again.changed) == (1, 0, [])


def test_a_late_event_in_a_later_batch_never_overwrites_a_newer_state() -> None:
    tracker, run = tracked("t1")
    tracker.apply_events(events(event_body("t1", "RUNNING", 3)), started_by="ecs-scheduler")
    late = tracker.apply_events(events(event_body("t1", "PENDING", 2)), started_by="ecs-scheduler")
    assert late.stale == 1 and run.reports[task_arn("t1")].last_status == "RUNNING"


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (event_body("t1", "RUNNING", 2, started_by="someone-else"), "another starter"),
        (event_body("t1", "RUNNING", 2, cluster="arn:aws:ecs:us-east-1:123456789012:cluster/other"), "another cluster"),
        (event_body("unknown", "RUNNING", 2), "a task not in flight here"),
    ],
)  # fmt: skip
def test_foreign_events_change_nothing(body: str, why: str) -> None:
    tracker, run = tracked("t1")
    result = tracker.apply_events(events(body), started_by="ecs-scheduler")
    assert (result.foreign, result.changed, result.jobs) == (1, [], set()), why
    assert run.reports[task_arn("t1")].last_status == "PROVISIONING"


def test_tasks_heard_of_are_not_silent_and_the_rest_are_after_the_grace() -> None:
    tracker, run = tracked("t1", "t2")
    assert tracker.silent(grace=0.0) == [run], "nothing heard yet"
    tracker.apply_events(events(event_body("t1", "RUNNING", 2), event_body("t2", "RUNNING", 2)),
                         started_by="ecs-scheduler")  # fmt: skip
    assert tracker.silent(grace=0.0) == []
    patient, _ = tracked("t3")
    assert patient.silent(grace=3600) == [], "within the grace nobody is described"


def test_the_documented_rule_matches_what_the_operator_reads() -> None:

    docs = (Path(__file__).resolve().parents[2] / "docs" / "task-events.md").read_text()
    pattern = json.loads(next(b for b in re.findall(r"```json\n(.*?)```", docs, re.S) if "detail-type" in b))
    assert pattern["source"] == [SOURCE] and pattern["detail-type"] == [DETAIL_TYPE]
    assert pattern["detail"]["startedBy"] == ["ecs-scheduler"], "the operator's default --started-by"
    task = {"taskArn": task_arn("t1"), "clusterArn": CLUSTER, "startedBy": "ecs-scheduler",
            "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/app:1"}  # fmt: skip
    event = json.loads(task_event(task, "STOPPED", 4))  # what the tests and the bench send
    assert event["detail"]["lastStatus"] in pattern["detail"]["lastStatus"]
    assert parse_task_event(json.dumps(event)).report.containers[0].exit_code == 0


TOPIC = "arn:aws:sns:us-east-1:123456789012:ecs-task-events"


def sns_envelope(inner: str, topic: str = TOPIC) -> str:
    return json.dumps({"Type": "Notification", "MessageId": "m-1", "TopicArn": topic, "Message": inner,
                       "Timestamp": "2026-11-23T10:00:05.123Z", "SignatureVersion": "1"})  # fmt: skip


@pytest.mark.parametrize(
    ("topics", "reads", "says"),
    [
        ((TOPIC,), True, ""),
        (("arn:aws:sns:*:123456789012:ecs-*",), True, ""),
        ((), False, "SNS envelope from arn:aws:sns:us-east-1:123456789012:ecs-task-events: enable raw message delivery"),
        (("arn:aws:sns:*:999999999999:*",), False, "accept the topic with --task-events-sns-topics"),
    ],
)  # fmt: skip
def test_an_sns_envelope_is_opened_for_accepted_topics_and_explained_otherwise(
    topics: tuple[str, ...], reads: bool, says: str
) -> None:
    body = sns_envelope(event_body("t1", "STOPPED", 4, exit_code=3))
    if reads:
        event = parse_task_event(body, sns_topics=topics)
        assert event.task_arn == task_arn("t1") and event.report.containers[0].exit_code == 3
    else:
        with pytest.raises(Malformed, match=says):
            parse_task_event(body, sns_topics=topics)
