"""Least privilege, derived: the chart grants exactly the API calls the operator made in this
e2e session (recorded by the API server: the test server's record or kube-apiserver's audit log), no more. Named to run after every other e2e test."""

import pytest

from tests.e2e.harness import KubeCluster
from tests.unit.test_helm_chart import objects

pytestmark = pytest.mark.e2e

OPERATOR_AGENTS = ("kopf/", "ecs-scheduler/")
# The session operator watched `e2e-*`, restart tests single namespaces, the HA test a Lease;
# the notification tests signed webhooks with Secrets.
VALUES = {"watchNamespaces": ["e2e-*"], "notifications": {"webhooks": {"enabled": True}}}

Permission = tuple[str, str, str]  # (API group, resource[/subresource], verb)


def used(kube: KubeCluster) -> set[Permission]:
    found = set()
    for entry in kube.requests():
        if entry.get("agent", "").startswith(OPERATOR_AGENTS):
            resource = entry["resource"] + (f"/{entry['subresource']}" if entry.get("subresource") else "")
            found.add((entry["group"], resource, entry["verb"]))
    return found


def granted() -> set[Permission]:
    found = set()
    for role in objects(VALUES):
        for_people = role["metadata"].get("labels", {}).get("ecs-scheduler.dev/role-for") == "people"
        if role["kind"] in ("ClusterRole", "Role") and not for_people:
            for rule in role["rules"]:
                for group in rule["apiGroups"]:
                    for resource in rule["resources"]:
                        found.update((group, resource, verb) for verb in rule["verbs"])
    return found


def test_chart_grants_exactly_what_the_operator_used(kube: KubeCluster) -> None:
    exercised = used(kube)
    assert ("ecs-scheduler.dev", "scheduledecsjobs/status", "patch") in exercised
    assert exercised <= granted(), f"used but not granted: {exercised - granted()}"
    assert granted() <= exercised, f"granted but never used: {granted() - exercised}"
