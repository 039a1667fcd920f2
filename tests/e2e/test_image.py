"""The container image a Helm user runs: built from the Dockerfile, run as Kubernetes would run it
(numeric uid without a passwd entry, read-only root filesystem, no USER or HOME from a login),
against the e2e API server and moto, until a job fires and its status is written.

Skipped where buildah, podman, runc or mmdebstrap are missing; CI installs them and sets
ECS_SCHEDULER_REQUIRE_IMAGE=1, which turns a skip into a failure.
"""

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from scripts.lock import read_lock

from tests.e2e.awsproxy import AwsProxy
from tests.e2e.harness import AWS_ENV, REGION, KubeCluster, free_port, wait_for
from tests.e2e.image import Images, missing_tools

pytestmark = pytest.mark.e2e

TAG = "localhost/ecs-scheduler:e2e"


@pytest.fixture(scope="module")
def images(workdir: Path) -> Iterator[Images]:
    missing = missing_tools()
    if missing:
        message = f"cannot build or run the image here: missing {', '.join(missing)}"
        if os.environ.get("ECS_SCHEDULER_REQUIRE_IMAGE"):
            pytest.fail(message)
        pytest.skip(message)
    built = Images(workdir)
    built.build(TAG)
    yield built


def test_image_runs_as_unknown_uid_and_fires_a_job(
    images: Images, kube: KubeCluster, aws: AwsProxy, ecs_setup: dict[str, str], own_namespace: str
) -> None:
    liveness, metrics = free_port(), free_port()
    kube.apply_job(own_namespace, "from-image", {"taskDefinition": "sleeper-task", "schedule": "@every 2s"})
    with images.container(
        TAG, f"ecs-scheduler-{own_namespace}",
        "run", "--region", REGION, "--aws-endpoint-url", aws.url, "--namespace", own_namespace,
        "--liveness", f"http://127.0.0.1:{liveness}/healthz", "--metrics-port", str(metrics),
        env={**AWS_ENV, "KUBECONFIG": "/etc/ecs-scheduler/kubeconfig"},
        mounts={kube.kubeconfig: "/etc/ecs-scheduler/kubeconfig"},
    ) as container:  # fmt: skip

        def fired() -> bool:
            assert container.running(), f"the container exited:\n{container.logs()[-4000:]}"
            return len(aws.recorder.run_tasks_for(f"{own_namespace}/from-image")) >= 2

        wait_for(fired, timeout=90, interval=0.5, what="a RunTask from the container")
        status = wait_for(lambda: (s := kube.status(own_namespace, "from-image")).get("lastRunTasks") and s,
                          timeout=15, what="status written by the container")  # fmt: skip
        assert status["lastRunTasks"][0]["taskArn"].startswith("arn:aws:ecs:")
        assert kube.ready(own_namespace, "from-image")["reason"] == "Scheduled"
        logs = container.logs()
    assert "Traceback" not in logs and "KeyError" not in logs, logs[-4000:]


def test_image_holds_exactly_the_locked_dependencies(images: Images) -> None:
    listed = images.run(
        "podman", "run", "--rm", "--user", "65532:65532", "--passwd=false", "--entrypoint", "python", TAG,
        "-c", "import importlib.metadata as m; print('\\n'.join(f'{d.name}=={d.version}' for d in m.distributions()))",
    ).stdout  # fmt: skip
    installed = {
        re.sub(r"[-_.]+", "-", n).lower(): v for n, _, v in (line.partition("==") for line in listed.split())
    }
    _, locked = read_lock()
    assert installed.pop("ecs-scheduler") is not None
    assert installed == locked, (
        "the image installs the lock, nothing more or less (pip and wheels left behind)"
    )


def test_image_has_no_dead_layers(images: Images) -> None:
    """Only the base image's layers and one layer with the operator's environment."""
    base = images.run(
        "podman",
        "image",
        "inspect",
        "--format",
        "{{len .RootFS.Layers}}",
        "docker.io/library/python:3.11-slim",
    ).stdout
    ours = images.run("podman", "image", "inspect", "--format", "{{len .RootFS.Layers}}", TAG).stdout
    assert int(ours) == int(base) + 1


def test_the_image_answers_version_and_says_clearly_when_it_has_no_kubeconfig(images: Images) -> None:
    from ecs_scheduler import __version__

    version = images.run("podman", "run", "--rm", "--user", "65532:65532", "--passwd=false", TAG, "--version")
    assert version.stdout.strip() == __version__
    lost = images.run("podman", "run", "--rm", "--user", "65532:65532", "--passwd=false", TAG, check=False)
    assert lost.returncode == 2, lost
    output = lost.stdout + lost.stderr
    assert "Traceback" not in output and output.count("\n") <= 2, output
    assert "no Kubernetes credentials" in output, output
