"""RunTask within ECS's rate limit, against moto behind a proxy that throttles like ECS.

The proxy's RunTask bucket is a small copy of ECS's (5 at once, 2 per second) and the operator
is told the same limit: a burst on one second is paced, not throttled; another namespace's
job is not pushed to the back; a launch that would start past its deadline is not sent.
"""

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.awsproxy import AwsProxy, EcsBuckets
from tests.e2e.harness import KubeCluster, MotoServer, Operator, wait_for

pytestmark = pytest.mark.e2e
RATE, BURST = 2.0, 5.0
_namespaces = itertools.count()


@pytest.fixture
def limited(moto: MotoServer, ecs_setup: dict[str, str]) -> Iterator[AwsProxy]:
    proxy = AwsProxy(moto.url, buckets=EcsBuckets({"RunTask": (RATE, BURST)})).start()
    yield proxy
    proxy.stop()


def at(seconds: float) -> tuple[str, float]:
    """A one-time schedule `seconds` from now, and its instant as a timestamp."""
    instant = (datetime.now(UTC) + timedelta(seconds=seconds)).replace(microsecond=0)
    return f"at({instant.strftime('%Y-%m-%dT%H:%M:%SZ')})", instant.timestamp()


def start(workdir: Path, kube: KubeCluster, proxy: AwsProxy, *namespaces: str) -> Operator:
    watched = [arg for namespace in namespaces for arg in ("--namespace", namespace)]
    return Operator(workdir, kube, proxy.url, *watched, "--ecs-rate-limit", f"RunTask={RATE:g}/{BURST:g}",
                    "--track-interval", "1",
                    name=f"{namespaces[0]}-operator")  # fmt: skip


def launched(proxy: AwsProxy, key: str) -> list[float]:
    """Arrival times of the job's RunTasks that ECS acted on (not throttled)."""
    return [c.received for c in proxy.recorder.run_tasks_for(key) if c.fault != "throttle"]


def messages(kube: KubeCluster, namespace: str, name: str, reason: str) -> list[str]:
    return [e.message for e in kube.events(namespace, name) if e.reason == reason]


def test_a_burst_is_paced_fairly_and_never_throttled(
    workdir: Path, kube: KubeCluster, limited: AwsProxy
) -> None:
    bulk = kube.create_namespace(f"rate-bulk-{next(_namespaces)}")
    other = kube.create_namespace(f"rate-other-{next(_namespaces)}")
    operator = start(workdir, kube, limited, bulk, other)
    try:
        schedule, instant = at(8)
        bulk_jobs = [f"job-{i}" for i in range(12)]
        for name in bulk_jobs:
            kube.apply_job(bulk, name, {"taskDefinition": "sleeper-task", "schedule": schedule})
        kube.apply_job(other, "lonely", {"taskDefinition": "sleeper-task", "schedule": schedule})
        keys = [f"{bulk}/{name}" for name in bulk_jobs] + [f"{other}/lonely"]
        wait_for(lambda: all(launched(limited, k) for k in keys), timeout=40, what="every job launched")
        minimum = (len(keys) - BURST) / RATE
        last = max(launched(limited, k)[0] for k in keys) - instant
        lonely = launched(limited, f"{other}/lonely")[0] - instant
        queued_most = max(keys, key=lambda k: launched(limited, k)[0]).split("/")[1]
        wait_for(
            lambda: any("behind the ECS RunTask rate limit" in m for m in messages(kube, bulk, queued_most, "Launched")),
            timeout=20, what="the queued launch's Event",
        )  # fmt: skip
    finally:
        operator.stop()
    assert limited.buckets is not None
    assert limited.buckets.throttled["RunTask"] == 0
    assert all(len(launched(limited, k)) == 1 for k in keys)  # once each, nothing lost
    assert last <= minimum * 1.1 + 1.0, (last, minimum)  # paced at the limit, not slower
    assert lonely <= 2.0  # its namespace's turn comes right after the first queued bulk call
    assert "Traceback" not in operator.process.log()


def test_a_launch_queued_past_its_deadline_is_missed_not_sent(
    workdir: Path, kube: KubeCluster, limited: AwsProxy
) -> None:
    namespace = kube.create_namespace(f"rate-deadline-{next(_namespaces)}")
    operator = start(workdir, kube, limited, namespace)
    try:
        schedule, _ = at(8)
        names = [f"job-{i}" for i in range(12)]
        for name in names:
            spec = {"taskDefinition": "sleeper-task", "schedule": schedule, "startingDeadlineSeconds": 1}
            kube.apply_job(namespace, name, spec)
        wait_for(
            lambda: all(kube.status(namespace, n).get("history") for n in names),
            timeout=40, what="every run recorded",
        )  # fmt: skip
        outcomes = {n: kube.status(namespace, n)["history"][0] for n in names}
    finally:
        operator.stop()
    missed = [n for n, record in outcomes.items() if "MissedDeadline" in record["reason"]]
    started = [n for n in names if n not in missed]
    assert len(started) >= BURST and missed, outcomes  # the burst went out, the rest waited too long
    for name in missed:
        assert not launched(limited, f"{namespace}/{name}")  # never sent
        assert outcomes[name]["outcome"] == "Failed"
        ready = kube.ready(namespace, name)
        assert ready["reason"] == "LaunchFailed" and "startingDeadlineSeconds" in ready["message"]
    for name in started:
        assert len(launched(limited, f"{namespace}/{name}")) == 1
