"""The hostile-spec corpus (tests/hostile.py) against the generated CRD schema and the validation
path, offline: each case gets exactly its verdict, and every valid spec's requests pass botocore's
own parameter validation and ECS's model."""

import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from botocore.session import get_session
from botocore.validate import ParamValidator

from ecs_scheduler.adapters.ecs_model import EcsModel
from ecs_scheduler.core.errors import SpecError
from ecs_scheduler.core.requests import requests_of
from ecs_scheduler.core.validation import validate_spec
from ecs_scheduler.model.crd import custom_resource_definition
from ecs_scheduler.model.spec import ScheduledEcsJobSpec
from tests.hostile import CASES, Case, Invalid, Refused, Valid

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "apiserver"))
from kubeapi import _openapi_to_jsonschema, prune  # the test API server's own schema check

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
SCHEMA = custom_resource_definition()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
VALIDATOR = jsonschema.Draft7Validator(_openapi_to_jsonschema(SCHEMA))
MODEL = EcsModel()
ECS = get_session().get_service_model("ecs")


def dotted(path: str) -> str:
    """spec.a[0].b and spec.a.0.b alike."""
    return re.sub(r"\[(\d+)\]", r".\1", path)


def schema_errors(case: Case) -> list[str]:
    """What the schema part of an API server says (types, bounds, lengths, patterns)."""
    obj = prune({"spec": case.spec()}, SCHEMA)
    paths = []
    for error in VALIDATOR.iter_errors(obj):
        path = [str(p) for p in error.absolute_path]
        if error.validator == "required":  # reported at the parent, as "'x' is a required property"
            path.append(str(error.message).split("'")[1])
        paths.append(".".join(path))
    return paths


def related(named: str, expected: str) -> bool:
    """The operator names the field, or the object holding it (a rule over several fields)."""
    return dotted(named).startswith(dotted(expected)) or dotted(expected).startswith(dotted(named))


def operator_verdict(case: Case) -> SpecError | None:
    try:
        validate_spec(case.spec(), identity=f"team/{case.job_name or 'job'}", now=NOW, check=MODEL.problems,
                      default_region="us-east-1")  # fmt: skip
    except SpecError as error:
        return error
    return None


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_hostile_spec_gets_its_verdict(case: Case) -> None:
    errors = schema_errors(case)
    verdict = case.verdict
    if isinstance(verdict, Refused) and verdict.by == "schema":
        assert errors, "the API server's schema accepted it"
        assert any(dotted(e).startswith(dotted(verdict.field)) for e in errors), errors
        return
    assert not errors, f"the schema refused it: {errors}"
    error = operator_verdict(case)
    if isinstance(verdict, Valid):
        assert error is None, str(error)
    elif isinstance(verdict, Invalid):
        assert error is not None, "accepted"
        assert dotted(error.field).startswith(dotted(verdict.field)), str(error)
    else:  # refused by CEL or a format check: what a server without them lets through, we refuse
        assert error is not None, "accepted"
        assert related(error.field, verdict.field), str(error)


@pytest.mark.parametrize("case", [c for c in CASES if isinstance(c.verdict, Valid)], ids=lambda c: c.name)
def test_requests_of_valid_specs_pass_botocore_and_the_ecs_model(case: Case) -> None:
    spec = ScheduledEcsJobSpec.model_validate(case.spec())
    for operation, request in requests_of(spec, default_cluster="default", region="us-east-1"):
        report = ParamValidator().validate(request, ECS.operation_model(operation).input_shape)
        assert not report.has_errors(), report.generate_report()
        assert MODEL.problems(operation, request) == []


def test_the_corpus_is_several_hundred_cases_of_every_verdict() -> None:
    kinds: dict[str, int] = {}
    for case in CASES:
        kind = type(case.verdict).__name__ + (
            f"/{case.verdict.by}" if isinstance(case.verdict, Refused) else ""
        )
        kinds[kind] = kinds.get(kind, 0) + 1
    assert len(CASES) >= 300
    assert set(kinds) == {"Refused/schema", "Refused/cel", "Refused/format", "Invalid", "Valid"}, kinds


@pytest.mark.parametrize(
    ("operation", "request_body", "path", "words"),
    [
        ("RunTask", {"taskDefinition": "t", "tags": [{"key": "k", "value": "v" * 257}]}, "tags[0].value", "at most 256"),
        ("RunTask", {"taskDefinition": "t", "tags": [{"key": f"k{i}", "value": ""} for i in range(51)]}, "tags",
         "at most 50"),
        ("RunTask", {"taskDefinition": "t", "launchType": "LAMBDA"}, "launchType", "not one of"),
        ("RunTask", {"taskDefinition": "t", "count": 2**31}, "count", "outside"),
        ("RunTask", {"taskDefinition": "t", "count": "1"}, "count", "whole number"),
        ("RunTask", {"taskDefinition": "t", "surprise": 1}, "surprise", "not a member"),
        ("RunTask", {}, "taskDefinition", "is required"),
        ("RunTask", {"taskDefinition": "t", "tags": [{"key": "a b\u0000", "value": ""}]}, "tags[0].key",
         "characters"),
        ("RegisterTaskDefinition", {"family": "f", "containerDefinitions": [{"name": "a", "memory": 2**40}]},
         "containerDefinitions[0].memory", "outside"),
        ("RegisterTaskDefinition", {"family": "f", "containerDefinitions": [],
                                    "runtimePlatform": {"operatingSystemFamily": "WINDOWS_SERVER_2099_FULL"}},
         "runtimePlatform.operatingSystemFamily", "not one of"),
    ],
)  # fmt: skip
def test_the_ecs_model_check_names_the_member(
    operation: str, request_body: dict[str, Any], path: str, words: str
) -> None:
    problems = MODEL.problems(operation, request_body)
    assert any(p.path == path and words in p.message for p in problems), problems


def test_a_request_the_model_passes_has_no_problems() -> None:
    assert (
        MODEL.problems(
            "RunTask", {"taskDefinition": "t", "count": 10, "tags": [{"key": "équipe", "value": "a b"}]}
        )
        == []
    )
