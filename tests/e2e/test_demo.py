"""`make demo` works: it starts everything, applies examples/ and shows tasks being launched."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e


def test_demo_applies_every_example_and_shows_launches() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py"), "--duration", "11", "--interval", "1"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    for manifest in (ROOT / "examples").glob("*.yaml"):
        assert f"applied examples/{manifest.name}" in result.stdout
    # Not a terminal: the live table is printed once, as it last was.
    assert result.stdout.count("ScheduledEcsJobs in 'default'") == 1, result.stdout
    sleeper = next(line for line in result.stdout.splitlines() if line.strip().startswith("sleeper-task "))
    assert "True/Scheduled" in sleeper
    assert int(re.split(r"\s+", sleeper.strip())[-1]) >= 1, sleeper
    assert "imported 2 of 2 classic job(s)" in result.stdout
    legacy = next(line for line in result.stdout.splitlines() if line.strip().startswith("legacy-sleeper "))
    assert "True/Scheduled" in legacy, legacy
    assert "CloudEvents received on ecs-scheduler-runs:" in result.stdout
    assert "cleaned up." in result.stdout
