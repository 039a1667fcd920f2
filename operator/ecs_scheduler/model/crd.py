"""Generate the CustomResourceDefinition from the pydantic models.

Kubernetes wants a *structural* OpenAPI v3 schema: no `$ref`, a `type` on every node and no
`anyOf` with null. Pydantic's JSON schema is converted node by node; optional fields are
simply left out of `required`, so users never have to write `null`.
"""

from typing import Any

from pydantic import BaseModel

from ecs_scheduler.model import names
from ecs_scheduler.model.notify import NOTIFICATION_CEL_RULES
from ecs_scheduler.model.run_request import ScheduledEcsJobRunSpec, ScheduledEcsJobRunStatus
from ecs_scheduler.model.spec import (
    CONTAINER_CEL_RULES,
    SPEC_CEL_RULES,
    TAGS_CEL_RULES,
    TRIGGER_CEL_RULES,
    ScheduledEcsJobSpec,
)
from ecs_scheduler.model.status import ScheduledEcsJobStatus

JsonSchema = dict[str, Any]

_KEPT_KEYWORDS = (
    "type", "description", "enum", "format", "minimum", "maximum", "minLength", "maxLength",
    "minItems", "maxItems", "minProperties", "maxProperties", "pattern",
)  # fmt: skip


def _structural(node: JsonSchema, defs: dict[str, JsonSchema]) -> JsonSchema:
    description = node.get("description")
    if "$ref" in node:
        node = defs[node["$ref"].rsplit("/", 1)[-1]]
    if "anyOf" in node:
        variants = [v for v in node["anyOf"] if v.get("type") != "null"]
        if len(variants) != 1:
            raise ValueError(f"cannot express a union in a structural schema: {node}")
        node = {**node, **variants[0]}
        node.pop("anyOf")
        if "$ref" in node:
            node = defs[node["$ref"].rsplit("/", 1)[-1]]
    out: JsonSchema = {k: node[k] for k in _KEPT_KEYWORDS if k in node}
    if description is not None:
        out["description"] = description
    if "const" in node:
        out["enum"] = [node["const"]]
    if "enum" in out and "type" not in out:
        out["type"] = "string"
    if out.get("type") == "object" or "properties" in node:
        out["type"] = "object"
        if "properties" in node:
            out["properties"] = {k: _structural(v, defs) for k, v in node["properties"].items()}
            if node.get("required"):
                out["required"] = list(node["required"])
        elif isinstance(node.get("additionalProperties"), dict):
            out["additionalProperties"] = _structural(node["additionalProperties"], defs)
    if out.get("type") == "array":
        out["items"] = _structural(node["items"], defs)
    if "type" not in out:
        raise ValueError(f"schema node without a type: {node}")
    return out


def openapi_schema(model: type[BaseModel]) -> JsonSchema:
    """The structural OpenAPI v3 schema of a model, as a CRD embeds it."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    schema = _structural(raw, raw.get("$defs", {}))
    schema.pop("title", None)
    return schema


def _ready_column(name: str, json_path: str, col_type: str = "string", priority: int = 0) -> JsonSchema:
    column: JsonSchema = {"name": name, "type": col_type, "jsonPath": json_path}
    if priority:
        column["priority"] = priority
    return column


def custom_resource_definition() -> JsonSchema:
    """The full CRD manifest for ScheduledEcsJob."""
    spec_schema = openapi_schema(ScheduledEcsJobSpec)
    spec_schema["x-kubernetes-validations"] = [dict(rule) for rule in SPEC_CEL_RULES]
    for field, rules in (
        ("trigger", TRIGGER_CEL_RULES),
        ("container", CONTAINER_CEL_RULES),
        ("tags", TAGS_CEL_RULES),
    ):
        spec_schema["properties"][field]["x-kubernetes-validations"] = [dict(rule) for rule in rules]
    targets = spec_schema["properties"]["notifications"]["items"]
    targets["x-kubernetes-validations"] = [dict(rule) for rule in NOTIFICATION_CEL_RULES]
    return _definition(
        names.KIND,
        names.PLURAL,
        names.SINGULAR,
        names.SHORT_NAMES,
        description="Runs an AWS ECS task on a schedule.",
        spec=spec_schema,
        status=openapi_schema(ScheduledEcsJobStatus),
        columns=[
            _ready_column("Schedule", ".spec.schedule"),
            _ready_column("Suspended", ".spec.suspended", "boolean"),
            _ready_column("Last Run", ".status.lastRun", "date"),
            _ready_column("Last Success", ".status.lastSuccessfulRun", "date"),
            # An instant in the future: kubectl shows a `date` column as an age, and a future age as
            # "<invalid>", so the timestamp is shown as it is.
            _ready_column("Next Run", ".status.estimatedNextRun", "string"),
            _ready_column("Ready", '.status.conditions[?(@.type=="Ready")].status'),
            _ready_column("Age", ".metadata.creationTimestamp", "date"),
        ],
    )


def run_request_definition() -> JsonSchema:
    """The full CRD manifest for ScheduledEcsJobRun."""
    spec_schema = openapi_schema(ScheduledEcsJobRunSpec)
    # A run is what it was asked to be: changing it afterwards would make its status a lie.
    spec_schema["x-kubernetes-validations"] = [
        {"rule": "self == oldSelf", "message": "a run's spec cannot be changed; create another run"}
    ]
    return _definition(
        names.RUN_KIND,
        names.RUN_PLURAL,
        names.RUN_SINGULAR,
        names.RUN_SHORT_NAMES,
        description="One run of a ScheduledEcsJob on demand, or a backfill of its schedule's instants.",
        spec=spec_schema,
        status=openapi_schema(ScheduledEcsJobRunStatus),
        columns=[
            _ready_column("Job", ".spec.jobName"),
            _ready_column("Phase", ".status.phase"),
            _ready_column("Total", ".status.total", "integer"),
            _ready_column("Succeeded", ".status.succeeded", "integer"),
            _ready_column("Failed", ".status.failed", "integer"),
            _ready_column("Skipped", ".status.skipped", "integer", priority=1),
            _ready_column("Started", ".status.startTime", "date", priority=1),
            _ready_column("Age", ".metadata.creationTimestamp", "date"),
        ],
    )


def _definition(
    kind: str,
    plural: str,
    singular: str,
    short_names: tuple[str, ...],
    *,
    description: str,
    spec: JsonSchema,
    status: JsonSchema,
    columns: list[JsonSchema],
) -> JsonSchema:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{names.GROUP}"},
        "spec": {
            "group": names.GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": kind,
                "plural": plural,
                "singular": singular,
                "shortNames": list(short_names),
                "categories": list(names.CATEGORIES),
            },
            "versions": [
                {
                    "name": names.VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "additionalPrinterColumns": columns,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "description": description,
                            "required": ["spec"],
                            "properties": {
                                "apiVersion": {"type": "string", "description": "API version."},
                                "kind": {"type": "string", "description": "Kind of the object."},
                                "metadata": {"type": "object"},
                                "spec": spec,
                                "status": status,
                            },
                        }
                    },
                }
            ],
        },
    }
