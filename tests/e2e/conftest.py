"""Session-wide real processes: moto server, a recording AWS proxy, an API server, the operator."""

import itertools
import re
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
def namespace(request: pytest.FixtureRequest, kube: KubeCluster, operator: Operator) -> str:
    # Where this test's part of the shared operator's log starts: shown if the test fails.
    request.node.stash[_log_start] = (operator, operator.process.log_path.stat().st_size)
    return kube.create_namespace(f"e2e-{next(_namespaces)}")


_log_start = pytest.StashKey[tuple[Operator, int]]()
LOG_LINES_ON_FAILURE = 200
_LOG_RECORD = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (?P<level>[A-Z]+) (?P<logger>[\w.]+)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    """A failed test that used the shared operator shows what the operator logged meanwhile
    (its own DEBUG lines, INFO and above from the libraries): on CI that log is all there is to tell a slow machine from a bug."""
    report: pytest.TestReport = yield
    started = item.stash.get(_log_start, None)
    if report.failed and started is not None:
        operator, offset = started
        with operator.process.log_path.open("rb") as log:
            log.seek(offset)
            lines = [line for line in log.read().decode(errors="replace").splitlines()
                     if (record := _LOG_RECORD.match(line))
                     and (record["level"] != "DEBUG" or record["logger"].startswith("ecs_scheduler"))]  # fmt: skip
        report.sections.append(
            ("operator log since the test began", "\n".join(lines[-LOG_LINES_ON_FAILURE:]))
        )
    return report


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
