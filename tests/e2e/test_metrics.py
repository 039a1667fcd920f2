"""The running operator exposes Prometheus metrics that follow what it did."""

import json
import os
import shutil
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.awsproxy import AwsProxy
from tests.e2e.harness import KubeCluster, Operator, Process, free_port, wait_for

pytestmark = pytest.mark.e2e


def scrape(operator: Operator) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{operator.metrics_port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        sample.name + str(sorted(sample.labels.items()) or ""): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_fires_launches_and_lateness_are_exported(
    kube: KubeCluster, aws: AwsProxy, operator: Operator, namespace: str
) -> None:
    before = scrape(operator)
    kube.apply_job(
        namespace, "counted", {"taskDefinition": "sleeper-task", "schedule": "@every 1s", "taskCount": 2}
    )
    wait_for(
        lambda: len(aws.recorder.run_tasks_for(f"{namespace}/counted")) >= 3, timeout=10, what="three fires"
    )
    kube.delete_job(namespace, "counted")
    after = wait_for(lambda: (m := scrape(operator))["ecs_scheduler_tasks_launched_total"] >= before.get("ecs_scheduler_tasks_launched_total", 0) + 6 and m,
                     timeout=5, what="launch counters")  # fmt: skip
    assert after["ecs_scheduler_fires_total"] >= before.get("ecs_scheduler_fires_total", 0) + 3
    assert after["ecs_scheduler_schedule_lateness_seconds_count"] >= 3

    # Counted over this test's launches: the session's earlier tests (a container job's first fire
    # waits for its registration) may have had a late one.
    def since(name: str) -> float:
        return after[name] - before.get(name, 0)

    assert since("ecs_scheduler_schedule_lateness_seconds_bucket[('le', '1.0')]") == since(
        "ecs_scheduler_schedule_lateness_seconds_bucket[('le', '+Inf')]"
    ), "every launch within 1 s"
    assert after["ecs_scheduler_status_write_seconds_count"] > 0


def prometheus_tool(name: str) -> str:
    """promtool/prometheus from Debian's `prometheus` package. CI installs it and sets
    ECS_SCHEDULER_REQUIRE_PROMETHEUS=1, so there a missing binary fails instead of skipping."""
    found = shutil.which(name)
    if found is None:
        if os.environ.get("ECS_SCHEDULER_REQUIRE_PROMETHEUS") == "1":
            pytest.fail(f"{name} not found (apt-get install prometheus)")
        pytest.skip(f"{name} not installed (Debian package prometheus)")
    return found


def exposition(operator: Operator) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{operator.metrics_port}/metrics", timeout=5) as response:
        return response.read().decode()


def test_exposition_passes_promtool(
    operator: Operator, kube: KubeCluster, aws: AwsProxy, namespace: str
) -> None:
    promtool = prometheus_tool("promtool")
    kube.apply_job(namespace, "linted", {"taskDefinition": "sleeper-task", "schedule": "@every 1s"})
    wait_for(lambda: aws.recorder.run_tasks_for(f"{namespace}/linted"), timeout=10, what="a fire")
    kube.delete_job(namespace, "linted")
    text = exposition(operator)
    for family in ("ecs_scheduler_aws_calls_total", "ecs_scheduler_jobs", "ecs_scheduler_leader 1.0",
                   "ecs_scheduler_active_tasks"):  # fmt: skip
        assert family in text, family
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_real_prometheus_scrapes_the_operator(
    operator: Operator, kube: KubeCluster, aws: AwsProxy, namespace: str, workdir: Path
) -> None:
    binary = prometheus_tool("prometheus")
    port = free_port()
    config = workdir / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        f"  - job_name: ecs-scheduler\n    static_configs: [{{targets: ['127.0.0.1:{operator.metrics_port}']}}]\n"
    )
    server = Process(
        "prometheus",
        [binary, f"--config.file={config}", f"--storage.tsdb.path={workdir / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        workdir=workdir,
    )  # fmt: skip
    try:
        kube.apply_job(namespace, "scraped", {"taskDefinition": "sleeper-task", "schedule": "@every 1s"})
        query = urllib.parse.urlencode({"query": 'ecs_scheduler_fires_total{job="ecs-scheduler"}'})

        def fired() -> float:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/api/v1/query?{query}", timeout=5
            ) as response:
                answer = json.load(response)
            results = answer["data"]["result"]
            return float(results[0]["value"][1]) if results else 0.0

        assert wait_for(fired, timeout=60, what="a fired-job series in Prometheus") > 0
    finally:
        kube.delete_job(namespace, "scraped")
        server.stop()
