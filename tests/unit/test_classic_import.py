"""`ecs-scheduler import` over a stand-in of the classic ECS Scheduler: every field maps, and every
imported job fires at the instants APScheduler's CronTrigger gives the classic job."""

import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from apscheduler.triggers.cron import CronTrigger

from ecs_scheduler.core.schedule import upcoming
from ecs_scheduler.core.validation import validate_spec
from ecs_scheduler.core.verdict import Judge
from ecs_scheduler.model import names
from ecs_scheduler.model.limits import INT32_MAX
from ecs_scheduler.tools import classic_sources
from ecs_scheduler.tools.classic_import import OVERRIDE_TAG, canonical_zone, convert, kubernetes_name
from ecs_scheduler.tools.import_command import import_jobs, report
from tests.classic_standin import classic_jobs, rest_api, sqlite_store

NOW = datetime(2026, 12, 3, 21, 40, 0, 500_000, tzinfo=UTC)
FIRES = 20
CLASSIC_FIELDS = ("second", "minute", "hour", "day_of_week", "week", "day", "month", "year")


def apscheduler_fires(job: dict[str, Any], count: int = FIRES) -> list[datetime]:
    """The classic's own engine: its schedule parse (day's `_` read as a space) into a CronTrigger."""
    arguments: dict[str, Any] = dict(zip(CLASSIC_FIELDS, job["schedule"].split(), strict=False))
    if "day" in arguments:
        arguments["day"] = arguments["day"].replace("_", " ")
    for key, argument in (("scheduleStart", "start_date"), ("scheduleEnd", "end_date")):
        if job.get(key):
            arguments[argument] = job[key]
    zone = canonical_zone(job.get("timezone") or "UTC")  # pytz read names in any case; so do we
    trigger = CronTrigger(**arguments, timezone=zone)
    fires: list[datetime] = []
    previous, moment = None, NOW
    while len(fires) < count:
        fire = trigger.get_next_fire_time(previous, moment)
        if fire is None:
            break
        fires.append(fire.astimezone(UTC))
        previous, moment = fire, fire + timedelta(microseconds=1)
    return fires


def imported(jobs: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
    results = import_jobs(jobs, judge=Judge(), now=NOW, namespace="batch", suspended=options.get("suspended"))
    return {r.classic_id: r for r in results}


JOBS = classic_jobs()


@pytest.mark.parametrize("job", JOBS, ids=[j["id"] for j in JOBS])
def test_every_imported_job_fires_at_the_classic_instants(job: dict[str, Any]) -> None:
    result = imported(JOBS)[job["id"]]
    assert result.manifest is not None, result.refused
    spec, name = result.manifest["spec"], result.manifest["metadata"]["name"]
    ours = upcoming(validate_spec(spec, identity=f"batch/{name}", now=NOW).schedule, NOW, FIRES)
    assert [f.astimezone(UTC) for f in ours] == apscheduler_fires(job)


@pytest.mark.parametrize(
    ("classic_id", "expected"),
    [
        ("sleeper-task", {"taskDefinition": "sleeper-task", "schedule": "25 */5", "scheduleSyntax": "EcsScheduler",
                          "timeZone": "UTC", "taskCount": 1, "concurrencyPolicy": "Forbid", "suspended": False}),
        ("long-sleep-task", {"taskDefinition": "sleeper-task",
                             "overrides": {"containerOverrides": [{"name": "drmonkeysee-task", "environment": {
                                 "SLEEP_SECONDS": "10", OVERRIDE_TAG: "long-sleep-task"}}]}}),
        ("Nightly_Report", {"taskDefinition": "report", "timeZone": "Europe/Berlin", "taskCount": 3, "maxCount": 5}),
        ("billing", {"scheduleStart": "2026-12-01T00:00:00-05:00", "scheduleEnd": "2027-12-31T23:59:59-05:00",
                     "timeZone": "America/New_York"}),
        ("last-friday", {"scheduleStart": "2026-06-01T08:00:00+00:00"}),
        ("consumer", {"trigger": {"type": "sqs", "queueName": "work-queue", "strategy": "Accurate",
                                  "messagesPerTask": 10}, "maxCount": 20}),
        ("drain", {"trigger": {"type": "sqs", "queueName": "drain-queue", "strategy": "Accurate",
                               "messagesPerTask": INT32_MAX}, "taskCount": 2}),
        ("paused", {"suspended": True}),
    ],
)  # fmt: skip
def test_each_field_maps(classic_id: str, expected: dict[str, Any]) -> None:
    manifest = imported(JOBS)[classic_id].manifest
    assert manifest is not None
    assert {k: manifest["spec"].get(k) for k in expected} == expected
    assert manifest["metadata"]["annotations"][names.CLASSIC_ID_ANNOTATION] == classic_id
    assert manifest["metadata"]["namespace"] == "batch"


def test_question_marks_stay_as_the_classic_resolved_them() -> None:
    (job,) = [j for j in JOBS if j["id"] == "Nightly_Report"]
    assert "?" not in job["schedule"]
    manifest = imported(JOBS)["Nightly_Report"].manifest
    assert manifest is not None and manifest["spec"]["schedule"] == job["schedule"]


@pytest.mark.parametrize(
    ("classic_id", "note"),
    [
        ("Nightly_Report", "time zone 'europe/berlin' written as 'Europe/Berlin'"),
        ("Nightly_Report", "named 'nightly-report'"),
        ("last-friday", "scheduleStart '2026-06-01T08:00:00' had no offset: read as UTC local time"),
        ("drain", "trigger without messagesPerTask"),
    ],
)
def test_what_changes_on_the_way_is_in_the_report(classic_id: str, note: str) -> None:
    results = import_jobs(JOBS, judge=Judge(), now=NOW, namespace=None, suspended=None)
    line = next(line for line in report(results).splitlines() if line.strip().startswith(f"{classic_id} ->"))
    assert note in line


def test_the_last_run_seeds_where_the_schedule_resumes() -> None:
    manifest = imported(JOBS)["sleeper-task"].manifest
    assert manifest is not None
    assert manifest["metadata"]["annotations"][names.RESUME_AFTER_ANNOTATION] == "2026-12-03T21:35:25+00:00"
    assert (
        names.RESUME_AFTER_ANNOTATION
        not in (imported(JOBS)["billing"].manifest or {})["metadata"]["annotations"]
    )


@pytest.mark.parametrize(
    ("job", "reason"),
    [
        ({"id": "kafka", "schedule": "0 *", "taskDefinition": "t", "trigger": {"type": "kafka"}}, "only sqs"),
        ({"id": "mars", "schedule": "0 *", "taskDefinition": "t", "timezone": "Mars/Base"}, "not an IANA time zone"),
        ({"id": "nothing", "taskDefinition": "t"}, "no id or no schedule"),
        ({"id": "bad-date", "schedule": "0 *", "taskDefinition": "t", "scheduleStart": "yesterday"}, "does not parse"),
        ({"id": "never", "schedule": "0 0 0 * * 30 2", "taskDefinition": "t"},
         "would be refused: spec.schedule: never fires"),
    ],
)  # fmt: skip
def test_what_cannot_come_across_is_reported_not_written(job: dict[str, Any], reason: str) -> None:
    result = imported([job])[job["id"]]
    assert result.manifest is None and reason in str(result.refused)


def test_cut_over_imports_everything_suspended() -> None:
    assert all(r.manifest["spec"]["suspended"] for r in imported(JOBS, suspended=True).values() if r.manifest)


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        (["Nightly_Report"], ["nightly-report"]),
        (["a_b", "a-b"], ["a-b", "a-b-" + __import__("hashlib").sha256(b"a-b").hexdigest()[:8]]),
        (["__"], ["job"]),
    ],
)
def test_names_are_valid_and_unique(ids: list[str], expected: list[str]) -> None:
    taken: set[str] = set()
    assert [kubernetes_name(i, taken) for i in ids] == expected


def test_rest_api_and_sqlite_store_give_the_same_jobs(tmp_path: Path) -> None:
    with rest_api(JOBS) as url:
        from_rest = list(classic_sources.from_rest(url, page=5))  # three pages
    from_store = list(classic_sources.from_sqlite(str(sqlite_store(tmp_path / "ecs-scheduler.db", JOBS))))
    assert len(from_rest) == len(from_store) == len(JOBS)
    runtime = ("link", "lastRun", "lastRunTasks", "estimatedNextRun")
    assert sorted(
        ({k: v for k, v in j.items() if k not in runtime} for j in from_rest), key=lambda j: j["id"]
    ) == sorted(from_store, key=lambda j: j["id"])


def test_the_command_writes_manifests_that_validate_and_a_report(tmp_path: Path) -> None:
    out = tmp_path / "imported"
    with rest_api(JOBS) as url:
        done = subprocess.run([sys.executable, "-m", "ecs_scheduler", "import", "--from", url, "-o", str(out),
                               "--namespace", "batch", "--suspended"], capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    files = sorted(p.name for p in out.glob("*.yaml"))
    assert len(files) == len(JOBS) and "nightly-report.yaml" in files
    assert (out / "import-report.txt").read_text().startswith(f"imported {len(JOBS)} of {len(JOBS)}")
    assert all(yaml.safe_load(p.read_text())["spec"]["suspended"] for p in out.glob("*.yaml"))
    checked = subprocess.run([sys.executable, "-m", "ecs_scheduler", "validate", "-f", str(out)],
                             capture_output=True, text=True, check=False)  # fmt: skip
    assert checked.returncode == 0, checked.stdout
    assert f"{len(JOBS)} job(s)" in checked.stderr


def test_the_command_to_stdout_is_one_multi_document_stream(tmp_path: Path) -> None:
    store = sqlite_store(tmp_path / "ecs-scheduler.db", JOBS[:3])
    done = subprocess.run([sys.executable, "-m", "ecs_scheduler", "import", "--sqlite", str(store)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    documents = list(yaml.safe_load_all(io.StringIO(done.stdout)))
    assert [d["kind"] for d in documents] == ["ScheduledEcsJob"] * 3
    assert json.dumps(documents).count(names.CLASSIC_ID_ANNOTATION) == 3


def test_convert_keeps_the_classic_suspended_flag_unless_told() -> None:
    job = {"id": "x", "schedule": "0 *", "taskDefinition": "t", "suspended": True}
    assert (convert(job, taken=set()).manifest or {})["spec"]["suspended"] is True
    assert (convert(job, taken=set(), suspended=False).manifest or {})["spec"]["suspended"] is False
