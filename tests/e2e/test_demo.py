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
        [sys.executable, str(ROOT / "scripts" / "demo.py"), "--duration", "11", "--interval", "5"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    for manifest in (ROOT / "examples").glob("*.yaml"):
        assert f"applied examples/{manifest.name}" in result.stdout
    last_view = result.stdout.rsplit("---", 1)[-1]
    sleeper = next(line for line in last_view.splitlines() if line.startswith("sleeper-task "))
    assert "True/Scheduled" in sleeper
    assert int(re.split(r"\s+", sleeper.strip())[-1]) >= 1, sleeper
    assert "cleaned up." in result.stdout
