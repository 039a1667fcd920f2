"""Generated specs, valid and invalid, applied to the running operator. The oracle is not "the
process lives" but what users see: a control job in another namespace launches every one of
its instants throughout, and every generated job that the API server accepted has a Ready
condition for its generation within 2 s (InvalidSpec ones naming a field)."""

import itertools
import time
from typing import Any

import kubernetes
import pytest
from hypothesis import HealthCheck, given, settings

from tests.e2e.awsproxy import AwsProxy
from tests.e2e.harness import KubeCluster, Operator
from tests.e2e.reliability import FUZZ_EXAMPLES, record
from tests.e2e.watching import Conditions, assert_every_instant, start_control_job
from tests.specfuzz import specs

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]
SAMPLE = min(FUZZ_EXAMPLES, 60)
WITHIN = 2.0
CONTROL_EVERY = 2


def test_generated_specs_never_delay_another_job(
    kube: KubeCluster, aws: AwsProxy, operator: Operator, namespace: str
) -> None:
    control, started = start_control_job(kube, aws, namespace, every=CONTROL_EVERY)
    numbers = itertools.count()
    applied: dict[str, float] = {}
    refused = itertools.count()

    with Conditions(kube, namespace) as conditions:

        @settings(max_examples=SAMPLE, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
        @given(specs())
        def apply(spec: Any) -> None:
            name = f"fuzz-{next(numbers)}"
            try:
                kube.apply_job(namespace, name, spec)
                applied[name] = time.time()
            except kubernetes.client.ApiException as error:
                assert error.status in (400, 422), error  # the schema refused it at apply time
                next(refused)

        apply()
        conditions.wait({(name, 1) for name in applied}, timeout=30)
        late, unnamed = {}, []
        for name, applied_at in applied.items():
            assert (name, 1) in conditions.seen, f"{name}: no Ready condition"
            seen_at, ready = conditions.seen[(name, 1)]
            if seen_at - applied_at > WITHIN:
                late[name] = round(seen_at - applied_at, 2)
            if ready["reason"] == "InvalidSpec" and not ready["message"].startswith("spec"):
                unnamed.append(ready)
        assert not late, f"Ready later than {WITHIN} s: {late}"
        assert not unnamed, unnamed
    for name in applied:
        kube.delete_job(namespace, name)
    time.sleep(CONTROL_EVERY + 1)
    instants = assert_every_instant(aws, control, every=CONTROL_EVERY, since=started, until=time.time())
    assert operator.process.alive()
    record("bad input on the running operator", {"generated": SAMPLE, "refused_by_schema": next(refused),
                                                 "applied": len(applied), "control_instants": instants})  # fmt: skip
