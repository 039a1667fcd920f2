"""Watching jobs from outside while a test applies them: when each showed its Ready condition,
and whether a control job launched every one of its instants."""

import itertools
import threading
import time
from datetime import datetime
from typing import Any

from tests.e2e.awsproxy import AwsProxy
from tests.e2e.harness import GROUP, PLURAL, VERSION, KubeCluster, wait_for


def ready_of(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The Ready condition, once the operator has reported on the current generation."""
    status = obj.get("status") or {}
    if status.get("observedGeneration") != obj["metadata"].get("generation"):
        return None
    return next((c for c in status.get("conditions") or [] if c["type"] == "Ready"), None)


class Conditions:
    """Lists every job of a namespace ten times a second, in a thread, noting when each
    (name, generation) first showed a Ready condition for that generation."""

    def __init__(self, kube: KubeCluster, namespace: str) -> None:
        self.kube, self.namespace = kube, namespace
        self.seen: dict[tuple[str, int], tuple[float, dict[str, Any]]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "Conditions":
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            listed = self.kube.custom.list_namespaced_custom_object(GROUP, VERSION, self.namespace, PLURAL)
            now = time.time()
            for obj in listed["items"]:
                key = (obj["metadata"]["name"], obj["metadata"]["generation"])
                ready = ready_of(obj)
                if ready is not None and key not in self.seen:
                    self.seen[key] = (now, ready)
            self._stop.wait(0.1)

    def wait(self, keys: set[tuple[str, int]], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not keys <= self.seen.keys():
            time.sleep(0.1)


def launched_instants(aws: AwsProxy, job: str) -> list[float]:
    """The scheduled instants (Unix seconds) of the job's RunTasks that reached ECS, in order."""
    return sorted(
        datetime.fromisoformat(tag["value"].replace("Z", "+00:00")).timestamp()
        for call in aws.recorder.run_tasks_for(job)
        if not call.deduplicated
        for tag in call.body["tags"]
        if tag["key"] == "ecs-scheduler.dev/scheduled-at"
    )


def assert_every_instant(aws: AwsProxy, job: str, *, every: int, since: float, until: float) -> int:
    """The job launched each of its instants between `since` and `until`, none twice; how many."""
    instants = launched_instants(aws, job)
    window = [t for t in instants if since <= t <= until - every]
    gaps = [b - a for a, b in itertools.pairwise(window) if b - a != every]
    assert len(window) >= (until - since) / every - 2, (len(window), until - since)
    assert not gaps, f"{job} skipped instants: {gaps}"
    assert len(set(instants)) == len(instants), f"{job} launched an instant twice"
    return len(window)


def start_control_job(kube: KubeCluster, aws: AwsProxy, namespace: str, *, every: int) -> tuple[str, float]:
    """A job on `@every <every>s` in a namespace of its own next to `namespace`, firing before
    this returns; (its namespace/name, the time it was seen firing)."""
    control_ns = kube.create_namespace(f"{namespace}-control")
    kube.apply_job(control_ns, "control", {"taskDefinition": "sleeper-task", "schedule": f"@every {every}s"})
    job = f"{control_ns}/control"
    wait_for(lambda: aws.recorder.run_tasks_for(job), timeout=30, what="the control job firing")
    return job, time.time()
