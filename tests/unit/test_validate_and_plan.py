"""`ecs-scheduler validate` and `plan`: manifests read as kubectl reads them, one line per bad
document, exit codes a CI job can rely on, and the requests botocore would send."""

import io
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from ecs_scheduler.cli import main
from ecs_scheduler.core.verdict import Judge
from ecs_scheduler.tools import manifests
from ecs_scheduler.tools.plan import PLACEHOLDER_UID, PlanSettings, plan_lines

NOW = datetime(2026, 12, 3, 21, 40, tzinfo=UTC)


def job(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "ecs-scheduler.dev/v1alpha1", "kind": "ScheduledEcsJob", "metadata": {"name": name},
            "spec": {"taskDefinition": "sleeper-task", "schedule": "0 3 * * *", **spec}}  # fmt: skip


def write(path: Path, *documents: Any) -> Path:
    path.write_text(yaml.safe_dump_all(documents))
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("documents", "expected"),
    [
        ([job("good")], []),
        ([job("good"), job("zone", timeZone="Mars/Base")],
         ["2: spec.timeZone: unknown time zone 'Mars/Base'; use an IANA name such as Europe/Paris"]),
        ([job("Bad_Name")], ["1: metadata.name: must be a lowercase RFC 1123 subdomain"]),
        ([job("parse", schedule="every tuesday")], ["1: spec.schedule: expected 5 fields"]),
        ([job("end", scheduleStart="2030-01-02T00:00:00Z", scheduleEnd="2030-01-01T00:00:00Z")],
         ["1: spec.scheduleEnd: scheduleEnd must be after scheduleStart"]),
        ([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}], []),
        ([{"apiVersion": "v1", "kind": "List", "items": [job("a"), job("b", taskCount=99)]}],
         ["1: spec.taskCount: Input should be less than or equal to 50"]),
        ([{"apiVersion": "ecs-scheduler.dev/v1alpha1", "kind": "ScheduledEcsJobRun", "metadata": {"name": "r"},
           "spec": {"taskCount": 2}}], ["1: spec.jobName: Field required"]),
    ],
    ids=["good", "second document bad", "bad name", "no parse", "end before start", "other kinds skipped",
         "a List's items", "a run"],
)  # fmt: skip
def test_one_line_per_bad_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], documents: list[Any], expected: list[str]
) -> None:
    path = write(tmp_path / "jobs.yaml", *documents)
    code, out, _ = run(capsys, "validate", "-f", str(path))
    lines = out.splitlines()
    assert len(lines) == len(expected)
    for line, wanted in zip(lines, expected, strict=True):
        assert line.startswith(f"{path}:{wanted}"), line
    assert code == (1 if expected else 0)


def test_directories_are_read_recursively_in_order_and_stdin_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "b").mkdir()
    write(tmp_path / "a.yaml", job("a", timeZone="Nowhere/Land"))
    write(tmp_path / "b" / "c.yml", job("c", schedule="nope"))
    (tmp_path / "notes.txt").write_text("not a manifest")
    monkeypatch.setattr(sys, "stdin", io.StringIO(yaml.safe_dump(job("d", taskCount=0))))
    code, out, err = run(capsys, "validate", "-f", str(tmp_path), "-f", "-")
    assert [line.split(":", 2)[:2] for line in out.splitlines()] == [
        [str(tmp_path / "a.yaml"), "1"], [str(tmp_path / "b" / "c.yml"), "1"], ["<stdin>", "1"]]  # fmt: skip
    assert code == 1 and "3 job(s), 0 run(s) checked" in err


def test_yaml_that_does_not_parse_is_an_error_of_its_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(job("a")) + "---\nspec: [unclosed\n")
    code, out, _ = run(capsys, "validate", "-f", str(path))
    assert out.startswith(f"{path}:2: yaml: ") and code == 1


def test_the_tenant_policy_decides_forbidden_and_a_bad_policy_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "tenants.yaml"
    policy.write_text("namespaces:\n  team-a:\n    taskDefinitionFamilies: [team-a-*]\n")
    manifest = job("x")
    manifest["metadata"]["namespace"] = "team-a"
    path = write(tmp_path / "job.yaml", manifest)
    code, out, _ = run(capsys, "validate", "-f", str(path), "--tenant-policy", str(policy))
    assert code == 1 and "spec.taskDefinition: task definition family 'sleeper-task' is not allowed" in out
    assert run(capsys, "validate", "-f", str(path))[0] == 0, "without the policy nothing forbids it"
    policy.write_text("namespaces: [not, a, mapping]\n")
    assert run(capsys, "validate", "-f", str(path), "--tenant-policy", str(policy))[0] == 2


def document(body: dict[str, Any]) -> manifests.Document:
    return manifests.Document("job.yaml", 1, body)


def bodies(lines: list[str]) -> list[dict[str, Any]]:
    """The JSON bodies printed after each `Operation (POST /, ...)` line."""
    text = "\n".join(lines)
    found, decoder, index = [], json.JSONDecoder(), 0
    while (start := text.find("\n{", index)) != -1:
        body, index = decoder.raw_decode(text, start + 1)
        found.append(body)
    return found


def test_plan_lists_fires_in_the_jobs_zone_and_the_run_task_body() -> None:
    settings = PlanSettings(Judge(), "team-a", NOW, count=3)
    lines = plan_lines(document(job("nightly", timeZone="Europe/Berlin", taskCount=23)), settings)
    assert lines[0] == "# team-a/nightly: '0 3 * * *' (Cron, Europe/Berlin)"
    assert lines[2:5] == [
        "  2026-12-04T03:00:00+01:00",
        "  2026-12-05T03:00:00+01:00",
        "  2026-12-06T03:00:00+01:00",
    ]
    assert any(PLACEHOLDER_UID in line for line in lines)
    calls = bodies(lines)
    assert [c["count"] for c in calls] == [10, 10, 3], "split as a fire splits it"
    assert {t["key"]: t["value"] for t in calls[0]["tags"]}[
        "ecs-scheduler.dev/scheduled-at"
    ] == "2026-12-04T02:00:00Z"
    assert len({c["clientToken"] for c in calls}) == 3


def test_plan_uses_the_manifests_uid_for_the_client_token() -> None:
    settings = PlanSettings(Judge(), "team-a", NOW, count=1)
    with_uid = job("nightly")
    with_uid["metadata"]["uid"] = "5f0c9a1e-0000-4000-8000-000000000001"
    (placeholder,) = bodies(plan_lines(document(job("nightly")), settings))
    (real,) = bodies(plan_lines(document(with_uid), settings))
    assert placeholder["clientToken"] != real["clientToken"]


def test_plan_of_a_container_job_registers_first(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path / "image.yaml", {**job("img"), "spec": {"container": {"image": "nginx:1.27", "memory": 512},
                                                                  "schedule": "@every 1h"}})  # fmt: skip
    code, out, _ = run(capsys, "plan", "-f", str(path), "-n", "1", "--raw")
    assert code == 0
    operations = [line.split(" ", 1)[0] for line in out.splitlines() if "X-Amz-Target" in line]
    assert operations == ["RegisterTaskDefinition", "RunTask"]
    (register,) = [line for line in out.splitlines() if line.startswith('{"family"')]
    assert json.loads(register)["containerDefinitions"][0]["image"] == "nginx:1.27"


def test_plan_of_a_bad_job_says_why_and_fails(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path / "bad.yaml", job("bad", schedule="nope"))
    code, out, _ = run(capsys, "plan", "-f", str(path))
    assert code == 1 and out.startswith(f"{path}:1: spec.schedule:")
