"""The chart's RBAC and settings in each `watchNamespaces` mode, on a fresh API server.

Each mode renders the chart, applies its ServiceAccount and RBAC objects, and runs two replicas
with the rendered Deployment's environment, as the ServiceAccount. On a real kube-apiserver the
real authorizer judges every request; the test API server authorizes everything, so there the
test shows the wiring and the timings only. In every mode: no request Forbidden, every watched
job fired and nothing else, exactly the granted permissions used, and a start and a failover
(SIGKILL of the leader) as fast as in cluster-wide mode.
"""

import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.awsproxy import AwsProxy
from tests.e2e.harness import KubeCluster, Operator, wait_for
from tests.e2e.test_zz_rbac import OPERATOR_AGENTS, Permission
from tests.unit.test_helm_chart import NAMESPACE, objects

pytestmark = pytest.mark.e2e

RBAC_KINDS = ("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
LEASE = {"leaseDurationSeconds": 4, "retryPeriodSeconds": 1}
SLACK_S = 5.0
"""How much slower than cluster-wide a mode may start or fail over (the named-namespace fault
this guards against cost about 55 s)."""


@dataclass(frozen=True)
class Mode:
    name: str
    watch: list[str]
    watched: list[str]
    """Namespaces whose jobs must fire."""
    unwatched: list[str]
    """Namespaces whose jobs must not fire."""


MODES = {
    "all": Mode("all", [], ["rbac-all-a", "rbac-all-b"], []),
    "named": Mode("named", ["rbac-named-a", "rbac-named-b"], ["rbac-named-a", "rbac-named-b"], ["rbac-named-c"]),
    "patterns": Mode("patterns", ["rbac-pat-*", "!rbac-pat-x"], ["rbac-pat-a", "rbac-pat-b"], ["rbac-pat-x"]),
}  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    start_s: float
    failover_s: float
    forbidden: list[dict[str, Any]]
    used: set[Permission]
    granted: set[Permission]


def deployment_env(rendered: list[dict[str, Any]], pod: str) -> dict[str, str]:
    """The operator container's environment from the rendered Deployment (fieldRefs filled in)."""
    (deployment,) = (o for o in rendered if o["kind"] == "Deployment")
    env = {}
    for entry in deployment["spec"]["template"]["spec"]["containers"][0]["env"]:
        if "value" in entry:
            env[entry["name"]] = str(entry["value"])
        elif entry.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.name":
            env[entry["name"]] = pod
    return env


def granted_by(rendered: list[dict[str, Any]]) -> set[Permission]:
    """What the chart grants the operator (the roles it offers people to bind are not its)."""
    return {
        (group, resource, verb)
        for role in rendered
        if role["kind"] in ("ClusterRole", "Role")
        and role["metadata"].get("labels", {}).get("ecs-scheduler.dev/role-for") != "people"
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def fired_since(aws: AwsProxy, jobs: list[str], since: float) -> bool:
    return all(any(c.received > since for c in aws.recorder.run_tasks_for(job)) for job in jobs)


def run_mode(mode: Mode, workdir: Path, aws: AwsProxy) -> Outcome:
    # Event counts written every 2 s, so that patching Events is exercised (and judged) too.
    # The admission webhook needs no RBAC and its own certificate files: test_admission.py covers it.
    values = {"watchNamespaces": mode.watch, "leaderElection": LEASE, "operator": {"eventSeriesRefresh": 2},
              "admission": {"enabled": False}}  # fmt: skip
    rendered = objects(values)
    kube = KubeCluster(workdir / mode.name, record=True)
    operators: list[Operator] = []
    try:
        for namespace in [NAMESPACE, *mode.watched, *mode.unwatched]:
            kube.create_namespace(namespace)
        if kube.real:  # the test API server authenticates and authorizes nobody: no RBAC to apply
            for manifest in rendered:
                if manifest["kind"] in RBAC_KINDS:
                    kube.apply(manifest)
        (account,) = (o for o in rendered if o["kind"] == "ServiceAccount")
        kubeconfig = kube.service_account_kubeconfig(
            NAMESPACE, account["metadata"]["name"], workdir / f"{mode.name}.kubeconfig"
        )
        jobs = [f"{ns}/every-second" for ns in mode.watched]
        for namespace in [*mode.watched, *mode.unwatched]:
            kube.apply_job(
                namespace, "every-second", {"taskDefinition": "sleeper-task", "schedule": "@every 1s"}
            )

        def replica(pod: str) -> Operator:
            env = deployment_env(rendered, pod)
            return Operator(workdir, kube, aws.url, name=f"{mode.name}-{pod}", kubeconfig=kubeconfig, env=env)

        started = time.time()
        operators.append(replica("ops-ecs-scheduler-0"))
        wait_for(
            lambda: fired_since(aws, jobs, started),
            timeout=120,
            what=f"every watched job fired ({mode.name})",
        )
        start_s = time.time() - started
        # A repeated Normal event becomes a count on one Event (its patch is judged by RBAC too).
        wait_for(lambda: any((e.count or 0) >= 2 for e in kube.events(mode.watched[0], "every-second")),
                 timeout=30, what=f"an Event series counted ({mode.name})")  # fmt: skip
        # A run on demand: made owned by its job, its status written, deleted once finished.
        kube.create_run(mode.watched[0], "once", {"jobName": "every-second", "ttlSecondsAfterFinished": 0})
        wait_for(lambda: not kube.run_exists(mode.watched[0], "once"), timeout=60,
                 what=f"the run on demand ran and was deleted ({mode.name})")  # fmt: skip
        operators.append(replica("ops-ecs-scheduler-1"))
        time.sleep(1.0)  # the standby has listed the jobs and watches the Lease
        killed = time.time()
        operators[0].process.stop(signal.SIGKILL)
        wait_for(
            lambda: fired_since(aws, jobs, killed),
            timeout=60,
            what=f"every job fired after failover ({mode.name})",
        )
        failover_s = time.time() - killed
        for namespace in mode.unwatched:
            assert not aws.recorder.run_tasks_for(f"{namespace}/every-second"), f"{namespace} is not watched"
        operators[1].stop()
        requests = [r for r in kube.requests() if r.get("agent", "").startswith(OPERATOR_AGENTS)]
        for running in operators:
            assert "Traceback" not in running.process.log(), running.process.log()[-4000:]
        return Outcome(
            start_s=start_s,
            failover_s=failover_s,
            forbidden=[r for r in requests if r.get("code") == 403],
            used={(r["group"], r["resource"] + (f"/{r['subresource']}" if r.get("subresource") else ""), r["verb"]) for r in requests},
            granted=granted_by(rendered),
        )  # fmt: skip
    finally:
        for running in operators:
            running.stop()
        kube.stop()


@pytest.fixture(scope="module")
def cluster_wide(workdir: Path, aws: AwsProxy, ecs_setup: dict[str, str]) -> Outcome:
    return run_mode(MODES["all"], workdir, aws)


@pytest.fixture(params=list(MODES))
def mode(request: pytest.FixtureRequest) -> Iterator[Mode]:
    yield MODES[request.param]


def test_chart_rbac_in_each_mode(
    mode: Mode, cluster_wide: Outcome, workdir: Path, aws: AwsProxy, ecs_setup: dict[str, str]
) -> None:
    outcome = cluster_wide if mode.name == "all" else run_mode(mode, workdir, aws)
    assert outcome.forbidden == [], f"{len(outcome.forbidden)} request(s) Forbidden: {outcome.forbidden[:5]}"
    assert outcome.used == outcome.granted, (
        f"used, not granted: {outcome.used - outcome.granted}; granted, unused: {outcome.granted - outcome.used}"
    )
    assert outcome.start_s <= cluster_wide.start_s + SLACK_S, (outcome.start_s, cluster_wide.start_s)
    assert outcome.failover_s <= cluster_wide.failover_s + SLACK_S, (
        outcome.failover_s,
        cluster_wide.failover_s,
    )
    print(f"\n{mode.name}: start {outcome.start_s:.1f} s, failover {outcome.failover_s:.1f} s")
