"""Jobs from a container image: the operator registers the task definition, one revision per
distinct container spec, and deregisters the old one once its runs are over."""

import kubernetes
import pytest

from tests.e2e.awsproxy import AwsProxy
from tests.e2e.conftest import StartOperator
from tests.e2e.harness import KubeCluster, MotoServer, wait_for

pytestmark = [pytest.mark.e2e]

CONTAINER = {
    "image": "busybox:1.36",
    "memory": 4,
    "command": ["sleep", "1"],
    "environment": {"MODE": "nightly"},
}


def registrations(aws: AwsProxy, family: str) -> int:
    return sum(1 for c in aws.recorder.operations("RegisterTaskDefinition") if c.body.get("family") == family)


def revision_status(moto: MotoServer, arn: str) -> str:
    return str(moto.client("ecs").describe_task_definition(taskDefinition=arn)["taskDefinition"]["status"])


def test_an_image_job_runs_changes_its_image_and_cleans_up(
    kube: KubeCluster, aws: AwsProxy, moto: MotoServer, namespace: str
) -> None:
    family = f"ecs-scheduler_{namespace}_nightly"
    kube.apply_job(namespace, "nightly", {"container": CONTAINER, "schedule": "@every 2s"})
    first = wait_for(
        lambda: kube.status(namespace, "nightly").get("taskDefinitionArn"), timeout=15, what="registered"
    )
    assert first.endswith(f"task-definition/{family}:1")
    wait_for(lambda: any(c.body["taskDefinition"] == first for c in aws.recorder.run_tasks_for(f"{namespace}/nightly")),
             timeout=10, what="a run of revision 1")  # fmt: skip
    registered = moto.client("ecs").describe_task_definition(taskDefinition=first, include=["TAGS"])
    (container,) = registered["taskDefinition"]["containerDefinitions"]
    assert container["image"] == "busybox:1.36" and container["environment"] == [
        {"name": "MODE", "value": "nightly"}
    ]
    tags = {t["key"]: t["value"] for t in registered["tags"]}
    assert tags["ecs-scheduler.dev/job"] == f"{namespace}/nightly"
    assert tags["ecs-scheduler.dev/content-hash"] == kube.status(namespace, "nightly")["taskDefinitionHash"]

    # Only a schedule change: same container, same revision, nothing registered.
    kube.patch_spec(namespace, "nightly", {"schedule": "@every 3s"})
    wait_for(
        lambda: kube.job(namespace, "nightly")["status"].get("observedGeneration") == 2,
        timeout=10,
        what="seen",
    )
    assert registrations(aws, family) == 1

    # A new image: a new revision, launched from then on; the old one goes once its runs end.
    kube.patch_spec(namespace, "nightly", {"container": {**CONTAINER, "image": "busybox:1.37"}})
    second = wait_for(lambda: (arn := kube.status(namespace, "nightly").get("taskDefinitionArn")) != first and arn,
                      timeout=15, what="revision 2")  # fmt: skip
    assert second.endswith(f"task-definition/{family}:2")
    wait_for(lambda: any(c.body["taskDefinition"] == second for c in aws.recorder.run_tasks_for(f"{namespace}/nightly")),
             timeout=10, what="a run of revision 2")  # fmt: skip
    wait_for(lambda: revision_status(moto, first) == "INACTIVE", timeout=30, what="revision 1 deregistered")
    assert revision_status(moto, second) == "ACTIVE"
    assert registrations(aws, family) == 2, "one registration per container change"

    # Deleted: no ACTIVE revision left behind.
    kube.delete_job(namespace, "nightly")
    wait_for(lambda: revision_status(moto, second) == "INACTIVE", timeout=15, what="revision 2 deregistered")


def test_a_restart_reuses_the_registered_revision_without_asking_ecs(
    kube: KubeCluster, aws: AwsProxy, own_namespace: str, start_operator: StartOperator
) -> None:
    namespace = own_namespace
    family = f"ecs-scheduler_{namespace}_hourly"
    first = start_operator()
    kube.apply_job(namespace, "hourly", {"container": CONTAINER, "schedule": "@every 2s"})
    arn = wait_for(
        lambda: kube.status(namespace, "hourly").get("taskDefinitionArn"), timeout=15, what="registered"
    )
    first.stop()
    lists_before = len(aws.recorder.operations("ListTaskDefinitions"))
    launches = len(aws.recorder.run_tasks_for(f"{namespace}/hourly"))
    start_operator()
    wait_for(
        lambda: len(aws.recorder.run_tasks_for(f"{namespace}/hourly")) > launches + 1,
        timeout=20,
        what="fires",
    )
    assert aws.recorder.run_tasks_for(f"{namespace}/hourly")[-1].body["taskDefinition"] == arn
    assert registrations(aws, family) == 1
    assert len(aws.recorder.operations("ListTaskDefinitions")) == lists_before, "status said which revision"


def test_a_spec_with_both_a_task_definition_and_a_container_is_refused(
    kube: KubeCluster, namespace: str
) -> None:
    spec = {"taskDefinition": "sleeper-task", "container": CONTAINER, "schedule": "@daily"}
    if kube.real:  # the CRD's CEL rule, at apply time
        with pytest.raises(kubernetes.client.ApiException) as refused:
            kube.apply_job(namespace, "both", spec)
        assert refused.value.status == 422 and "exactly one of taskDefinition and container" in str(
            refused.value.body
        )
        return
    kube.apply_job(namespace, "both", spec)  # the test server has no CEL: the operator says it
    ready = wait_for(lambda: kube.ready(namespace, "both").get("reason") == "InvalidSpec" and kube.ready(namespace, "both"),
                     timeout=10, what="InvalidSpec")  # fmt: skip
    assert ready["message"] == "spec: exactly one of taskDefinition and container must be set"
