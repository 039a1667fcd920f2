"""Shared test settings: e2e tests are opt-out with -m 'not e2e'."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "operator"))
