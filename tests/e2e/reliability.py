"""Knobs and the results record of the reliability suite.

`make test` runs the short, seeded versions; `make reliability` sets the full sizes through
these environment variables and asks for a results file, which it turns into docs/reliability.md.
"""

import json
import os
from pathlib import Path
from typing import Any

SEED = int(os.environ.get("ECS_SCHEDULER_RELIABILITY_SEED", "20261122"))
KILLS = int(os.environ.get("ECS_SCHEDULER_RELIABILITY_KILLS", "4"))
OUTAGE_SECONDS = float(os.environ.get("ECS_SCHEDULER_RELIABILITY_OUTAGE", "10"))
FAULT_SECONDS = float(os.environ.get("ECS_SCHEDULER_RELIABILITY_FAULT_SECONDS", "20"))
FUZZ_EXAMPLES = int(os.environ.get("ECS_SCHEDULER_RELIABILITY_FUZZ", "500"))


def record(name: str, results: dict[str, Any]) -> None:
    """Add one experiment's figures to the results file, when one was asked for."""
    target = os.environ.get("ECS_SCHEDULER_RELIABILITY_REPORT")
    if not target:
        return
    path = Path(target)
    data = json.loads(path.read_text()) if path.exists() else {}
    data[name] = results
    path.write_text(json.dumps(data, indent=1) + "\n")


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {}
    pick = lambda q: ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]  # noqa: E731
    return {"n": len(ordered), "p50": pick(50), "p99": pick(99), "max": ordered[-1]}
