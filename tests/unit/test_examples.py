"""Every example manifest is a valid ScheduledEcsJob (the e2e demo test also runs them)."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from ecs_scheduler.core.validation import validate_spec

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))


@pytest.mark.parametrize("manifest", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_is_valid_and_fires(manifest: Path) -> None:
    body = yaml.safe_load(manifest.read_text())
    assert body["apiVersion"] == "ecs-scheduler.dev/v1alpha1" and body["kind"] == "ScheduledEcsJob"
    job = validate_spec(
        body["spec"], identity=f"default/{body['metadata']['name']}", now=datetime(2026, 11, 22, tzinfo=UTC)
    )
    assert job.schedule.next_after(datetime(2026, 11, 22, tzinfo=UTC)) is not None


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 3
