"""Kill -9 at random moments, restart, repeat: every instant launched exactly once.

Jobs fire every 5 s; the operator needs about 2 s to come back, so at most one instant falls
into each outage, and it is the latest: with a deadline of 60 s it must still run. The ECS
stand-in (the recording proxy over moto) honours clientToken like ECS, and counts what reached
ECS: one launch per instant, never two, none lost.
"""

import random
import time
from collections import Counter
from datetime import UTC, datetime

import pytest

from tests.e2e.awsproxy import AwsProxy
from tests.e2e.conftest import StartOperator
from tests.e2e.harness import KubeCluster, wait_for
from tests.e2e.reliability import KILLS, SEED, percentiles, record

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]
JOBS = 5
PERIOD = 5


def scheduled(call: object) -> float:
    tags = {t["key"]: t["value"] for t in call.body["tags"]}  # type: ignore[attr-defined]
    return (
        datetime.strptime(tags["ecs-scheduler.dev/scheduled-at"], "%Y-%m-%dT%H:%M:%SZ")
        .replace(tzinfo=UTC)
        .timestamp()
    )


def test_sigkill_at_random_moments_loses_and_repeats_nothing(
    kube: KubeCluster, aws: AwsProxy, own_namespace: str, start_operator: StartOperator
) -> None:
    namespace, rng = own_namespace, random.Random(SEED)
    running = start_operator()
    for index in range(JOBS):
        spec = {
            "taskDefinition": "sleeper-task",
            "schedule": f"@every {PERIOD}s",
            "startingDeadlineSeconds": 60,
        }
        kube.apply_job(namespace, f"job-{index}", spec)
    keys = [f"{namespace}/job-{index}" for index in range(JOBS)]
    wait_for(lambda: all(aws.recorder.run_tasks_for(k) for k in keys), timeout=20, what="first fires")
    began = time.time()
    downtimes = []
    for _ in range(KILLS):
        time.sleep(rng.uniform(0.2, 2 * PERIOD))
        running.kill()
        killed = time.time()
        running = start_operator()
        downtimes.append(time.time() - killed)
    last_restart = time.time()
    time.sleep(PERIOD + 2)  # the instant after the last restart, and its status write
    ended = time.time()
    duplicates, lost, lateness = 0, [], []
    for key in keys:
        calls = [c for c in aws.recorder.run_tasks_for(key) if began - PERIOD <= scheduled(c) <= ended - 2]
        reached = [c for c in calls if not c.deduplicated]
        per_instant = Counter(scheduled(c) for c in reached)
        duplicates += sum(n - 1 for n in per_instant.values() if n > 1)
        first, last = min(per_instant), max(per_instant)
        expected = {first + PERIOD * i for i in range(int((last - first) / PERIOD) + 1)}
        lost += sorted(expected - set(per_instant))
        lateness += [c.received - scheduled(c) for c in reached]
    figures = {"kills": KILLS, "jobs": JOBS, "period_s": PERIOD, "instants": sum(len({scheduled(c) for c in aws.recorder.run_tasks_for(k)}) for k in keys),
               "launches_repeated_by_ecs_dedup": sum(1 for k in keys for c in aws.recorder.run_tasks_for(k) if c.deduplicated),
               "duplicates": duplicates, "lost": len(lost), "restart_s": percentiles(downtimes),
               "lateness_s": percentiles(lateness), "last_restart_to_end_s": ended - last_restart}  # fmt: skip
    record("kill -9 loop", figures)
    assert duplicates == 0, figures
    assert lost == [], (lost, figures)
