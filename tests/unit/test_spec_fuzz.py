"""Property: whatever a spec holds, validation either accepts it or names the field; it never crashes.

The same path the operator uses (validate_spec). The short run is in `make test`; `make
reliability` runs 10,000 examples (ECS_SCHEDULER_RELIABILITY_FUZZ).
"""

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from ecs_scheduler.core.errors import SpecError
from ecs_scheduler.core.validation import validate_spec
from tests.e2e.reliability import FUZZ_EXAMPLES, record
from tests.specfuzz import FIELDS, specs

pytestmark = pytest.mark.reliability
NOW = datetime(2026, 11, 22, 5, 0, tzinfo=UTC)
outcomes = {"valid": 0, "invalid": 0}


def names_a_field(error: SpecError, spec: Any) -> bool:
    if error.field == "spec":
        return error.message == "must be an object" or any(name in error.message for name in FIELDS)
    rest = error.field.removeprefix("spec")
    if rest.startswith('["'):
        top = json.JSONDecoder().raw_decode(rest[1:])[0]
    else:
        top = rest.removeprefix(".").split(".")[0].split("[")[0]
    return top in FIELDS or (isinstance(spec, dict) and top in spec)


@settings(
    max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(specs())
def test_validation_accepts_or_names_the_field(spec: Any) -> None:
    try:
        validate_spec(spec, identity="fuzz/job", now=NOW)
    except SpecError as error:
        outcomes["invalid"] += 1
        assert error.field.startswith("spec"), error
        assert names_a_field(error, spec), (error.field, error.message, spec)
    else:
        outcomes["valid"] += 1


def test_zz_record_outcomes() -> None:
    record("spec fuzzing", {"examples": FUZZ_EXAMPLES, **outcomes, "crashes": 0})
    assert outcomes["invalid"] > 0 and outcomes["valid"] > 0, "the generator covers both kinds"
