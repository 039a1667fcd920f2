"""End-to-end import from the classic ECS Scheduler: its S3 and DynamoDB stores (moto over HTTP), and
the documented cut-over, after which no instant runs twice and none is skipped."""

import itertools
import math
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.classic_standin import classic_jobs, dynamodb_store, rest_api, s3_store, sqlite_store
from tests.e2e.awsproxy import AwsProxy, Call
from tests.e2e.harness import AWS_ENV, REGION, KubeCluster, MotoServer, wait_for

pytestmark = pytest.mark.e2e

GROUP, VERSION, PLURAL = "ecs-scheduler.dev", "v1alpha1", "scheduledecsjobs"


def run_import(*args: str, env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    done = subprocess.run([sys.executable, "-m", "ecs_scheduler", "import", *args], capture_output=True, text=True,
                          check=False, env={**os.environ, **AWS_ENV, **(env or {})})  # fmt: skip
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def test_the_s3_and_dynamodb_stores_give_what_the_sqlite_store_gives(
    moto: MotoServer, tmp_path: Path
) -> None:
    jobs = classic_jobs()
    s3_store(moto.client("s3"), "classic-jobs", "prod/jobs", jobs)
    dynamodb_store(moto.client("dynamodb"), "classic-jobs", jobs)
    aws = ("--aws-endpoint-url", moto.url, "--region", REGION)
    from_sqlite = run_import("--sqlite", str(sqlite_store(tmp_path / "jobs.db", jobs)))
    from_s3 = run_import("--s3", "s3://classic-jobs/prod/jobs", *aws)
    from_dynamodb = run_import("--dynamodb", "classic-jobs", *aws)
    assert len(from_sqlite) == len(jobs)
    assert from_s3 == from_sqlite
    assert from_dynamodb == from_sqlite


def scheduled_at(call: Call) -> datetime:
    value = next(t["value"] for t in call.body["tags"] if t["key"] == "ecs-scheduler.dev/scheduled-at")
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def apply(kube: KubeCluster, namespace: str, manifest: dict[str, Any]) -> None:
    """As `kubectl apply` does for these fields: create, or merge the manifest into the object."""
    name = manifest["metadata"]["name"]
    try:
        kube.custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
    except Exception:
        kube.custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, manifest)
        return
    patch = {"metadata": {"annotations": manifest["metadata"]["annotations"]}, "spec": manifest["spec"]}
    kube.custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name, patch)


def test_a_cut_over_neither_repeats_the_classic_last_run_nor_skips_an_instant(
    kube: KubeCluster, aws: AwsProxy, namespace: str
) -> None:
    period = 5
    now = time.time()
    last_run = datetime.fromtimestamp(math.floor(now / period) * period - 2 * period, UTC)
    classic = [{"id": "Every_Five", "taskDefinition": "sleeper-task", "schedule": f"*/{period}", "taskCount": 1,
                "lastRun": last_run.isoformat()}]  # fmt: skip
    key = f"{namespace}/every-five"
    with rest_api(classic) as url:
        # 1. Import suspended and apply: the job is there, checked, and does nothing yet.
        (manifest,) = run_import("--from", url, "--namespace", namespace, "--suspended")
        apply(kube, namespace, manifest)
        wait_for(lambda: kube.ready(namespace, "every-five").get("reason") == "Suspended", timeout=10,
                 what="suspended")  # fmt: skip
        # 2. Suspend it in the classic (its lastRun no longer moves), then import again: resumed here.
        classic[0]["suspended"] = True
        (manifest,) = run_import("--from", url, "--namespace", namespace, "--no-suspended")
    assert manifest["metadata"]["annotations"]["ecs-scheduler.dev/resume-after"] == last_run.isoformat()
    assert aws.recorder.run_tasks_for(key) == []
    # moto's tasks outlive this 5-s period, and the import's concurrencyPolicy Forbid would skip
    # fires while they run: not what this test is about.
    manifest["spec"]["concurrencyPolicy"] = "Allow"
    while not 1 <= time.time() % period <= 3:  # apply away from an instant, so which one is due is clear
        time.sleep(0.05)
    resumed = time.time()
    apply(kube, namespace, manifest)
    due = datetime.fromtimestamp(math.floor(resumed / period) * period, UTC)  # the latest instant came due
    wait_for(
        lambda: len(aws.recorder.run_tasks_for(key)) >= 3, timeout=20, what="three runs after the cut-over"
    )
    instants = [scheduled_at(c) for c in aws.recorder.run_tasks_for(key)]
    assert all(i > last_run for i in instants), "the classic's last run is not repeated"
    assert len(set(instants)) == len(instants), "no instant twice"
    assert instants[0] == due, "the instant that came due since the classic stopped runs once, at once"
    assert all((b - a).total_seconds() == period for a, b in itertools.pairwise(instants)), instants
