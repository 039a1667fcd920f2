"""No Docker engine runs here: check the Dockerfile's promises by reading it."""

import re
from pathlib import Path

DOCKERFILE = (Path(__file__).resolve().parents[2] / "Dockerfile").read_text()
STAGES = re.split(r"^FROM ", DOCKERFILE, flags=re.MULTILINE)[1:]


def test_multi_stage_wheel_build() -> None:
    assert len(STAGES) == 2
    assert "pip wheel" in STAGES[0]
    assert "COPY --from=build /wheels" in STAGES[1]


def test_final_stage_is_slim_without_compilers() -> None:
    final = STAGES[-1]
    assert final.startswith("python:3.11-slim")
    for compiler in ("gcc", "build-essential", "apt-get install"):
        assert compiler not in final


def test_runs_as_numeric_non_root_user() -> None:
    users = re.findall(r"^USER\s+(\S+)", STAGES[-1], flags=re.MULTILINE)
    assert users and all(part.isdigit() and int(part) != 0 for part in users[-1].split(":"))


def test_entrypoint_and_liveness() -> None:
    assert 'ENTRYPOINT ["ecs-scheduler", "run"]' in STAGES[-1]
    assert "ECS_SCHEDULER_LIVENESS=http://0.0.0.0:8080/healthz" in STAGES[-1]
