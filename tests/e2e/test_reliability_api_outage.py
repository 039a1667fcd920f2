"""The Kubernetes API server unreachable for a while: launches go on from memory, status
writes are retried and converge afterwards, nothing crashes, nothing is lost."""

import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from tests.e2e.awsproxy import AwsProxy
from tests.e2e.harness import KubeCluster, Operator, wait_for
from tests.e2e.reliability import OUTAGE_SECONDS, percentiles, record
from tests.e2e.tcpproxy import CuttableProxy
from tests.e2e.test_reliability_kills import scheduled

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]
JOBS, PERIOD = 3, 2


def kubeconfig_through(kube: KubeCluster, proxy: CuttableProxy, path: Path) -> Path:
    config = yaml.safe_load(kube.kubeconfig.read_text())
    server = urlsplit(config["clusters"][0]["cluster"]["server"])
    config["clusters"][0]["cluster"]["server"] = f"{server.scheme}://127.0.0.1:{proxy.port}"
    path.write_text(yaml.safe_dump(config))
    return path


def test_launches_continue_and_status_converges_after_an_api_outage(
    workdir: Path, kube: KubeCluster, aws: AwsProxy, ecs_setup: dict[str, str], own_namespace: str
) -> None:
    namespace = own_namespace
    server = urlsplit(kube.url)
    proxy = CuttableProxy(server.hostname or "127.0.0.1", server.port or 443)
    config = kubeconfig_through(kube, proxy, workdir / f"{namespace}-kubeconfig")
    operator = Operator(workdir, kube, aws.url, "--namespace", namespace, "--track-interval", "1",
                        name=f"{namespace}-operator", kubeconfig=config)  # fmt: skip
    try:
        keys = [f"{namespace}/job-{index}" for index in range(JOBS)]
        for index in range(JOBS):
            kube.apply_job(
                namespace, f"job-{index}", {"taskDefinition": "sleeper-task", "schedule": f"@every {PERIOD}s"}
            )
        wait_for(lambda: all(kube.status(namespace, f"job-{i}").get("lastRun") for i in range(JOBS)),
                 timeout=20, what="status before the outage")  # fmt: skip
        proxy.cut()
        cut_at = time.time()
        time.sleep(OUTAGE_SECONDS)
        restored_at = time.time()
        proxy.restore()
        during = {
            k: [scheduled(c) for c in aws.recorder.run_tasks_for(k) if cut_at < scheduled(c) < restored_at]
            for k in keys
        }
        expected_per_job = int(OUTAGE_SECONDS / PERIOD) - 1
        assert all(len(instants) >= expected_per_job for instants in during.values()), during
        assert operator.process.alive(), "no crash"

        def converged() -> bool:
            for index, key in enumerate(keys):
                last = max(scheduled(c) for c in aws.recorder.run_tasks_for(key))
                shown = kube.status(namespace, f"job-{index}").get("lastRun", "")
                if (
                    not shown
                    or time.mktime(time.strptime(shown[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
                    < last - 2 * PERIOD
                ):
                    return False
            return True

        wait_for(converged, timeout=60, what="status to converge after the outage")
        converged_after = time.time() - restored_at
        # Launches kept their cadence through the outage.
        gaps = [
            b - a
            for instants in during.values()
            for a, b in zip(sorted(instants), sorted(instants)[1:], strict=False)
        ]
        figures = {"outage_s": OUTAGE_SECONDS, "jobs": JOBS, "launches_during_outage": sum(len(v) for v in during.values()),
                   "status_converged_after_s": round(converged_after, 1), "gaps_between_launches_s": percentiles(gaps)}  # fmt: skip
        record("Kubernetes API outage", figures)
        assert max(gaps, default=PERIOD) <= PERIOD, figures
        assert "Traceback" not in operator.process.log()
    finally:
        operator.stop()
        proxy.close()
