"""The Dockerfile's promises, read from the file (tests/e2e/test_image.py builds and runs it)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
STAGES = re.split(r"^FROM ", DOCKERFILE, flags=re.MULTILINE)[1:]


def test_build_stage_installs_the_lock_and_nothing_unpinned() -> None:
    build = STAGES[0]
    assert "COPY requirements.lock" in build
    assert re.search(r"install --no-deps -r requirements\.lock", build)
    assert re.search(r"install --no-deps \.", build), "the operator itself brings no dependency of its own"
    assert " check" in build, "pip check: the lock satisfies every installed package"


def test_runtime_stage_copies_only_the_environment() -> None:
    final = STAGES[-1]
    assert final.startswith("python:3.11-slim")
    assert re.findall(r"^COPY .*$", final, flags=re.MULTILINE) == [
        "COPY --from=build /opt/ecs-scheduler /opt/ecs-scheduler"
    ]
    for step in ("RUN ", "pip ", "apt-get", "gcc"):
        assert step not in final


def test_runs_as_numeric_non_root_user() -> None:
    users = re.findall(r"^USER\s+(\S+)", STAGES[-1], flags=re.MULTILINE)
    assert users and all(part.isdigit() and int(part) != 0 for part in users[-1].split(":"))


def test_entrypoint_and_liveness() -> None:
    # The entry point is the command, `run` its default: `docker run IMAGE --version` works.
    assert 'ENTRYPOINT ["ecs-scheduler"]' in STAGES[-1] and 'CMD ["run"]' in STAGES[-1]
    assert "ECS_SCHEDULER_LIVENESS=http://0.0.0.0:8080/healthz" in STAGES[-1]


def test_build_context_is_only_what_the_image_needs() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignored[ignored.index("*") :][1:5] == [
        "!pyproject.toml",
        "!README.md",
        "!requirements.lock",
        "!operator/",
    ]
