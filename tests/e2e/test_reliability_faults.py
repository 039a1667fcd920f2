"""AWS faults at the ECS boundary: 20 % throttled, 5 % answered 500 after ECS acted, 10 % slow.

botocore's standard retries and the deterministic clientToken must carry every fire through:
each instant reaches ECS (is acted on) exactly once, within its deadline.
"""

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.awsproxy import AwsProxy, Faults
from tests.e2e.harness import KubeCluster, MotoServer, Operator, wait_for
from tests.e2e.reliability import FAULT_SECONDS, SEED, percentiles, record
from tests.e2e.test_reliability_kills import scheduled

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]
JOBS, PERIOD, DEADLINE = 5, 2, 30


@pytest.fixture
def faulty(moto: MotoServer, ecs_setup: dict[str, str]) -> Iterator[AwsProxy]:
    proxy = AwsProxy(moto.url, faults=Faults(seed=SEED)).start()
    yield proxy
    proxy.stop()


def test_every_fire_launches_once_through_throttling_errors_and_slowness(
    workdir: Path, kube: KubeCluster, faulty: AwsProxy, own_namespace: str
) -> None:
    namespace = own_namespace
    operator = Operator(workdir, kube, faulty.url, "--namespace", namespace, "--track-interval", "1",
                        name=f"{namespace}-operator")  # fmt: skip
    try:
        for index in range(JOBS):
            spec = {"taskDefinition": "sleeper-task", "schedule": f"@every {PERIOD}s",
                    "startingDeadlineSeconds": DEADLINE,
                    "retryPolicy": {"maxAttempts": 3, "backoffSeconds": 1,
                                    "retryOn": ["ThrottlingException", "ServerException", "RESOURCE:*"]}}  # fmt: skip
            kube.apply_job(namespace, f"job-{index}", spec)
        keys = [f"{namespace}/job-{index}" for index in range(JOBS)]
        wait_for(lambda: all(faulty.recorder.run_tasks_for(k) for k in keys), timeout=30, what="first fires")
        began = time.time()
        time.sleep(FAULT_SECONDS)
        ended = time.time()
        time.sleep(DEADLINE / 3)  # let retries of the last instants finish
    finally:
        operator.stop()
    duplicates, lost, lateness = 0, [], []
    for key in keys:
        calls = [c for c in faulty.recorder.run_tasks_for(key) if began <= scheduled(c) <= ended]
        acted = [c for c in calls if not c.deduplicated and c.fault != "throttle"]  # reached ECS
        per_instant = Counter(scheduled(c) for c in acted)
        # A retry after a lost answer sends the same token, which ECS (the proxy) answers from its
        # record: a second call that reaches ECS for one instant would start its tasks twice.
        duplicates += sum(n - 1 for n in per_instant.values())
        first = min(per_instant)
        expected = {first + PERIOD * i for i in range(int((ended - first) / PERIOD) + 1)}
        lost += sorted(expected - set(per_instant))
        for instant in per_instant:
            landed = [c.received for c in acted if scheduled(c) == instant]
            lateness.append(min(landed) - instant)
    figures = {"seconds": FAULT_SECONDS, "jobs": JOBS, "period_s": PERIOD, "faults_injected": faulty.faults.injected,
               "calls": len(faulty.recorder.calls), "duplicates": duplicates, "lost": len(lost),
               "lateness_s": percentiles(lateness)}  # fmt: skip
    record("AWS faults", figures)
    assert duplicates == 0, figures
    assert lost == [], (lost, figures)
    assert max(lateness) < DEADLINE, figures
    assert "Traceback" not in operator.process.log()
