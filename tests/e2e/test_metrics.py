"""The running operator exposes Prometheus metrics that follow what it did."""

import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.awsproxy import AwsProxy
from tests.e2e.harness import KubeCluster, Operator, wait_for

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
    assert (
        after["ecs_scheduler_schedule_lateness_seconds_bucket[('le', '1.0')]"]
        == after["ecs_scheduler_schedule_lateness_seconds_bucket[('le', '+Inf')]"]
    ), "every launch within 1 s"
    assert after["ecs_scheduler_status_write_seconds_count"] > 0
