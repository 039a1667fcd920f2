"""Session-wide real processes: moto server, a recording AWS proxy, an API server, the operator."""

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.awsproxy import AwsProxy
from tests.e2e.harness import KubeCluster, MotoServer, Operator

_namespaces = itertools.count(1)


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="session")
def moto(workdir: Path) -> Iterator[MotoServer]:
    server = MotoServer(workdir)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def ecs_setup(moto: MotoServer) -> dict[str, str]:
    return moto.prepare_ecs()


@pytest.fixture(scope="session")
def aws(moto: MotoServer) -> Iterator[AwsProxy]:
    proxy = AwsProxy(moto.url).start()
    yield proxy
    proxy.stop()


@pytest.fixture(scope="session")
def kube(workdir: Path) -> Iterator[KubeCluster]:
    cluster = KubeCluster(workdir, record=True)
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def operator(
    workdir: Path, kube: KubeCluster, aws: AwsProxy, ecs_setup: dict[str, str]
) -> Iterator[Operator]:
    # Tests that restart or kill an operator run their own, in namespaces outside this pattern.
    # A short event series refresh, so that Event counts are written (and their RBAC exercised).
    running = Operator(workdir, kube, aws.url, "--namespace", "e2e-*", "--track-interval", "1",
                       "--event-series-refresh", "3")  # fmt: skip
    yield running
    running.stop()
    assert "Traceback" not in running.process.log(), running.process.log()[-5000:]


@pytest.fixture
def namespace(kube: KubeCluster, operator: Operator) -> str:
    return kube.create_namespace(f"e2e-{next(_namespaces)}")


@pytest.fixture
def tasks_stay_running(moto: MotoServer) -> Iterator[None]:
    moto.task_progression(1_000_000)  # DescribeTasks no longer moves RUNNING tasks towards STOPPED
    yield
    moto.task_progression(1)


_own_namespaces = itertools.count(1)
StartOperator = Callable[..., Operator]


@pytest.fixture
def own_namespace(kube: KubeCluster) -> str:
    """A namespace outside the session operator's `e2e-*`, for a test that runs its own."""
    return kube.create_namespace(f"own-{next(_own_namespaces)}")


@pytest.fixture
def start_operator(
    workdir: Path, kube: KubeCluster, aws: AwsProxy, ecs_setup: dict[str, str], own_namespace: str
) -> Iterator[StartOperator]:
    """Start (and at the end stop) operators watching `own_namespace`, like a Deployment would."""
    started: list[Operator] = []

    def start(*args: str) -> Operator:
        name = f"{own_namespace}-operator-{len(started) + 1}"
        running = Operator(workdir, kube, aws.url, "--namespace", own_namespace, "--track-interval", "1", *args,
                           name=name)  # fmt: skip
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()
