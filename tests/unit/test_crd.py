"""The CRD in crds/ (and in the chart) is exactly what the model generates."""

from pathlib import Path

import yaml

from ecs_scheduler.cli import crd_yaml
from ecs_scheduler.model.crd import custom_resource_definition

ROOT = Path(__file__).resolve().parents[2]
CRD_FILE = ROOT / "crds" / "scheduledecsjobs.ecs-scheduler.dev.yaml"


def test_committed_crd_matches_the_model() -> None:
    assert CRD_FILE.read_text() == crd_yaml(), "run `make crds` to regenerate crds/"


def _walk(node: dict, path: str = "") -> list[str]:  # type: ignore[type-arg]
    missing = [] if "description" in node else [path or "<root>"]
    for name, child in node.get("properties", {}).items():
        missing += _walk(child, f"{path}.{name}")
    if node.get("items", {}).get("type") == "object":  # scalar list items are described by their list
        missing += _walk(node["items"], f"{path}[]")
    return missing


def test_every_spec_and_status_field_has_a_description() -> None:
    schema = custom_resource_definition()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert _walk(schema["properties"]["spec"], "spec") == []
    assert _walk(schema["properties"]["status"], "status") == []


def test_schema_is_structural() -> None:
    text = yaml.safe_dump(custom_resource_definition())
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
