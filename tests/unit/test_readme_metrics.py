"""The README's metrics table lists exactly what the operator exports."""

import re
from pathlib import Path

from ecs_scheduler.runtime.metrics import Metrics

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def exported() -> set[str]:
    names = set()
    for family in Metrics().registry.collect():
        suffix = "_total" if family.type == "counter" else ""
        names.add(family.name + suffix)
    return names


def test_readme_metrics_table_is_the_exported_set() -> None:
    documented = set(re.findall(r"^\| `(ecs_scheduler_[a-z_]+)` \|", README, flags=re.MULTILINE))
    assert documented == exported()
