"""The CRD in crds/ (and in the chart) is exactly what the model generates."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from ecs_scheduler.cli import crd_yaml
from ecs_scheduler.model.crd import custom_resource_definition, run_request_definition

ROOT = Path(__file__).resolve().parents[2]
CRD_FILE = ROOT / "crds" / "scheduledecsjobs.ecs-scheduler.dev.yaml"
RUN_CRD_FILE = ROOT / "crds" / "scheduledecsjobruns.ecs-scheduler.dev.yaml"


@pytest.mark.parametrize(("path", "kind"), [(CRD_FILE, "job"), (RUN_CRD_FILE, "run")])
def test_committed_crds_match_the_model_and_the_charts_copy(path: Path, kind: str) -> None:
    assert path.read_text() == crd_yaml(kind), "run `make crds` to regenerate crds/"
    assert (ROOT / "helm" / "ecs-scheduler" / "crds" / path.name).read_text() == path.read_text()


def _walk(node: dict, path: str = "") -> list[str]:  # type: ignore[type-arg]
    missing = [] if "description" in node else [path or "<root>"]
    for name, child in node.get("properties", {}).items():
        missing += _walk(child, f"{path}.{name}")
    if node.get("items", {}).get("type") == "object":  # scalar list items are described by their list
        missing += _walk(node["items"], f"{path}[]")
    return missing


DEFINITIONS = [custom_resource_definition, run_request_definition]


@pytest.mark.parametrize("definition", DEFINITIONS)
def test_every_spec_and_status_field_has_a_description(definition: Callable[[], dict[str, Any]]) -> None:
    schema = definition()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert _walk(schema["properties"]["spec"], "spec") == []
    assert _walk(schema["properties"]["status"], "status") == []


@pytest.mark.parametrize("definition", DEFINITIONS)
def test_schema_is_structural(definition: Callable[[], dict[str, Any]]) -> None:
    text = yaml.safe_dump(definition())
    for forbidden in ("$ref", "anyOf", "oneOf", "allOf", "'null'", "$defs"):
        assert forbidden not in text


def test_names_and_columns() -> None:
    crd = custom_resource_definition()
    assert crd["metadata"]["name"] == "scheduledecsjobs.ecs-scheduler.dev"
    assert crd["spec"]["names"]["shortNames"] == ["sej"]
    assert crd["spec"]["names"]["categories"] == ["ecs-scheduler"]
    version = crd["spec"]["versions"][0]
    assert version["name"] == "v1alpha1" and version["subresources"] == {"status": {}}
    assert [c["name"] for c in version["additionalPrinterColumns"]] == [
        "Schedule", "Suspended", "Last Run", "Last Success", "Next Run", "Ready", "Age",
    ]  # fmt: skip
    # kubectl prints a `date` column as an age; an instant in the future prints "<invalid>".
    dates = {c["jsonPath"] for c in version["additionalPrinterColumns"] if c["type"] == "date"}
    assert dates == {".status.lastRun", ".status.lastSuccessfulRun", ".metadata.creationTimestamp"}
    spec = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert spec["required"] == ["schedule"]  # and exactly one of taskDefinition, container (CEL)
    assert spec["properties"]["maxCount"]["maximum"] == 50
    assert any("launchType" in r["rule"] for r in spec["x-kubernetes-validations"])


def test_a_run_is_named_sejr_and_its_spec_cannot_change() -> None:
    crd = run_request_definition()
    assert crd["metadata"]["name"] == "scheduledecsjobruns.ecs-scheduler.dev"
    assert crd["spec"]["names"]["shortNames"] == ["sejr"]
    spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert spec["required"] == ["jobName"]
    assert spec["x-kubernetes-validations"] == [
        {"rule": "self == oldSelf", "message": "a run's spec cannot be changed; create another run"}
    ]
    assert spec["properties"]["backfill"]["properties"]["parallelism"]["maximum"] == 50
    assert set(spec["properties"]["backfill"]["required"]) == {"from", "to"}
