"""What `kubectl get sej` prints, from a real kubectl: the columns read right, and the README's
sample is what kubectl prints (same columns, each cell of the same form).

The printing is server-side: a real kube-apiserver (KUBEBUILDER_ASSETS), or the test server,
which renders custom resources' printer columns as kube-apiserver does.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.harness import KubeCluster, wait_for

pytestmark = pytest.mark.e2e

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
AGE = r"\d+(s|m|m\d+s|h|h\d+m|d|d\d+h|y)"
INSTANT = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"
CELLS = {  # the form of each column's cells, as kubectl prints them (a missing field: empty)
    "NAME": r"[a-z0-9-]+", "SCHEDULE": r"\S+", "SUSPENDED": r"(true|false|)", "LAST RUN": AGE,
    "LAST SUCCESS": rf"({AGE}|<none>)", "NEXT RUN": INSTANT, "READY": r"(True|False)", "AGE": AGE,
}  # fmt: skip


def columns(header: str) -> list[tuple[str, int]]:
    """(column name, where it starts) from a kubectl header line."""
    return [(m.group(0), m.start()) for m in re.finditer(r"\S+( \S+)*", header)]


def cells(header: str, row: str) -> dict[str, str]:
    found = columns(header)
    ends = [start for _, start in found[1:]] + [len(row) + 1]
    return {name: row[start:end].strip() for (name, start), end in zip(found, ends, strict=True)}


def readme_sample() -> tuple[str, str]:
    """The header and first row the README shows for `kubectl get sej`."""
    lines = README.splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("NAME ") and "NEXT RUN" in line)
    return lines[index], lines[index + 1]


@pytest.fixture(scope="module")
def kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        pytest.skip("kubectl is not installed")
    return found


def test_kubectl_get_prints_every_column_readably(
    kubectl: str, kube: KubeCluster, namespace: str, tmp_path: Path
) -> None:
    kube.apply_job(
        namespace,
        "sleeper-task",
        {"taskDefinition": "sleeper-task", "schedule": "*/5", "scheduleSyntax": "EcsScheduler"},
    )
    wait_for(
        lambda: kube.status(namespace, "sleeper-task").get("lastSuccessfulRun"),
        timeout=30,
        what="a successful run",
    )
    printed = subprocess.run(
        [kubectl, "get", "sej", "-n", namespace, "--kubeconfig", str(kube.kubeconfig), "--cache-dir", str(tmp_path)],
        capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    assert "<invalid>" not in "\n".join(printed)
    header, row = printed[0], printed[1]
    assert [name for name, _ in columns(header)] == list(CELLS)
    for name, value in cells(header, row).items():
        assert re.fullmatch(CELLS[name], value), f"{name}: {value!r}"


def test_readme_sample_is_what_kubectl_prints() -> None:
    header, row = readme_sample()
    assert [name for name, _ in columns(header)] == list(CELLS)
    for name, value in cells(header, row).items():
        assert re.fullmatch(CELLS[name], value), f"README's {name}: {value!r}"
