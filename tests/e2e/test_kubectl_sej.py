"""`kubectl sej`, run as a user runs it: the real kubectl finds the plugin on PATH (without
kubectl installed, the plugin itself is run), with the user's kubeconfig and AWS credentials."""

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.harness import AWS_ENV, LOG_GROUP, KubeCluster, MotoServer, wait_for

pytestmark = [pytest.mark.e2e]

BIN = Path(sys.executable).parent
NEVER_DURING_THE_TEST = "0 0 1 1 *"


class Sej:
    def __init__(self, kube: KubeCluster, moto: MotoServer, namespace: str) -> None:
        self.namespace = namespace
        self.kubectl = shutil.which("kubectl")
        self.env = {**os.environ, **AWS_ENV, "KUBECONFIG": str(kube.kubeconfig), "AWS_ENDPOINT_URL": moto.url,
                    "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}  # fmt: skip

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [self.kubectl, "sej"] if self.kubectl else [str(BIN / "kubectl-sej")]
        return subprocess.run([*command, "-n", self.namespace, *args], env=self.env, capture_output=True,
                              text=True, timeout=120, check=False)  # fmt: skip


@pytest.fixture
def sej(kube: KubeCluster, moto: MotoServer, namespace: str) -> Sej:
    return Sej(kube, moto, namespace)


def test_kubectl_finds_the_plugin(sej: Sej) -> None:
    if sej.kubectl is None:
        pytest.skip("kubectl is not installed (the other tests run the plugin directly)")
    listed = subprocess.run(
        [sej.kubectl, "plugin", "list"], env=sej.env, capture_output=True, text=True, check=False
    )
    assert str(BIN / "kubectl-sej") in listed.stdout, listed.stdout + listed.stderr
    assert "run a job now" in sej("--help").stdout


def test_a_job_owner_runs_a_job_with_a_date_reads_its_log_and_its_history(
    sej: Sej, kube: KubeCluster, moto: MotoServer, namespace: str
) -> None:
    kube.apply_job(namespace, "report", {"taskDefinition": "logged-task", "schedule": NEVER_DURING_THE_TEST})
    ran = sej("run", "report", "--env", "DATE=2026-11-28", "--wait", "--timeout", "60")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    name = ran.stdout.split("scheduledecsjobrun.ecs-scheduler.dev/", 1)[1].split()[0]
    header, row = ran.stdout.splitlines()[1:3]
    assert header.split() == ["NAME", "PHASE", "TOTAL", "SUCCEEDED", "FAILED", "SKIPPED"]
    assert row.split() == [name, "Succeeded", "1", "1", "0", "0"]
    assert header.index("PHASE") == row.index("Succeeded"), "columns line up"

    # Where its output is: in the run's status, read from the task definition's awslogs options.
    (instant,) = kube.run(namespace, name)["status"]["instants"]
    (location,) = instant["logs"]
    task_id = instant["tasks"][0]["taskArn"].rsplit("/", 1)[-1]
    assert location == {"taskId": task_id, "container": "app", "logGroup": LOG_GROUP, "region": "us-east-1",
                        "logStream": f"e2e/app/{task_id}"}  # fmt: skip
    logs = moto.client("logs")
    if LOG_GROUP not in [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]]:
        logs.create_log_group(logGroupName=LOG_GROUP)
    logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=location["logStream"])
    now = int(datetime.now(UTC).timestamp() * 1000)
    logs.put_log_events(logGroupName=LOG_GROUP, logStreamName=location["logStream"], logEvents=[
        {"timestamp": now, "message": "report for 2026-11-28"}, {"timestamp": now + 1, "message": "done"}])  # fmt: skip

    for which in (["--run", name], ["--last"]):
        printed = sej("logs", "report", *which)
        assert printed.returncode == 0, printed.stderr
        assert printed.stdout.splitlines() == ["report for 2026-11-28", "done"], which

    history = sej("history", "report")
    assert history.returncode == 0, history.stderr
    lines = history.stdout.splitlines()
    assert lines[0].split() == ["SCHEDULED", "ORIGIN", "RUN", "ATTEMPT", "OUTCOME", "TASKS", "REASON"]
    assert lines[1].split()[1:6] == ["RunNow", name, "1", "Succeeded", "1"]
    assert any(line.startswith(name) and "Succeeded" in line for line in lines[3:])


def test_backfill_dry_run_next_and_suspend(sej: Sej, kube: KubeCluster, namespace: str) -> None:
    kube.apply_job(namespace, "hourly", {"taskDefinition": "sleeper-task", "schedule": "0 * * * *"})
    top = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start, end = (top - timedelta(hours=3)).isoformat(), (top - timedelta(hours=1)).isoformat()
    dry = sej("backfill", "hourly", "--from", start, "--to", end, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines() == [(top - timedelta(hours=h)).isoformat() for h in (3, 2, 1)] + [
        "# 3 instant(s); nothing created (--dry-run)"
    ]
    too_many = sej(
        "backfill", "hourly", "--from", "2026-01-01T00:00:00Z", "--to", "2026-06-01T00:00:00Z", "--dry-run"
    )
    assert too_many.returncode == 2 and "more than 1000 instants" in too_many.stderr
    assert sej("backfill", "hourly", "--from", end, "--to", start).returncode == 2

    upcoming = [datetime.fromisoformat(line) for line in sej("next", "hourly", "-n", "2").stdout.splitlines()]
    assert len(upcoming) == 2 and upcoming[0] > datetime.now(UTC) - timedelta(seconds=5)
    assert upcoming[0].minute == upcoming[0].second == 0 and upcoming[1] - upcoming[0] == timedelta(hours=1)

    assert sej("suspend", "hourly").returncode == 0
    assert kube.job(namespace, "hourly")["spec"]["suspended"] is True
    assert sej("resume", "hourly").returncode == 0
    assert kube.job(namespace, "hourly")["spec"]["suspended"] is False


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["logs", "missing"], 2, 'ScheduledEcsJob "missing" not found'),
        (["run", "missing"], 2, "not found"),
        (["run", "report", "--env", "NOEQUALS"], 2, "--env takes K=V"),
    ],
)
def test_mistakes_get_a_message_and_exit_code_2(
    sej: Sej, kube: KubeCluster, namespace: str, args: list[str], code: int, says: str
) -> None:
    kube.apply_job(namespace, "report", {"taskDefinition": "sleeper-task", "schedule": NEVER_DURING_THE_TEST})
    result = sej(*args)
    assert (result.returncode, says in result.stderr) == (code, True), result.stderr
    wait_for(lambda: True, timeout=1)
