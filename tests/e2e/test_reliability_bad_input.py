"""Generated specs, valid and invalid, applied to the running operator: it keeps serving the
valid jobs, rejects the others with a condition naming the field, and never crashes."""

import itertools
from typing import Any

import kubernetes
import pytest
from hypothesis import HealthCheck, given, settings

from tests.e2e.awsproxy import AwsProxy
from tests.e2e.harness import KubeCluster, Operator, wait_for
from tests.e2e.reliability import record
from tests.specfuzz import specs

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]
SAMPLE = 25
applied: list[str] = []
refused = itertools.count()


def test_a_sample_of_generated_specs_leaves_the_operator_serving(
    kube: KubeCluster, aws: AwsProxy, operator: Operator, namespace: str
) -> None:
    kube.apply_job(namespace, "healthy", {"taskDefinition": "sleeper-task", "schedule": "@every 1s"})
    numbers = itertools.count()

    @settings(max_examples=SAMPLE, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
    @given(specs())
    def apply(spec: Any) -> None:
        name = f"fuzz-{next(numbers)}"
        try:
            kube.apply_job(namespace, name, spec)
            applied.append(name)
        except kubernetes.client.ApiException as error:
            assert error.status in (400, 422), error  # the schema refused it at apply time
            next(refused)

    apply()
    before = len(aws.recorder.run_tasks_for(f"{namespace}/healthy"))
    wait_for(lambda: len(aws.recorder.run_tasks_for(f"{namespace}/healthy")) >= before + 3, timeout=15,
             what="the valid job still firing")  # fmt: skip
    for name in applied:
        ready = wait_for(lambda n=name: kube.ready(namespace, n), timeout=15, what=f"{name} Ready condition")
        if ready["reason"] == "InvalidSpec":
            assert ready["message"].startswith("spec"), ready
    assert operator.process.alive()
    record("bad input on the running operator", {"generated": SAMPLE, "refused_by_schema": next(refused),
                                                 "applied": len(applied)})  # fmt: skip
    for name in applied:
        kube.delete_job(namespace, name)
    kube.delete_job(namespace, "healthy")
