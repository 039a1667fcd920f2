"""Server-side printing of custom resources, as kube-apiserver answers `kubectl get`.

kubectl asks for `application/json;as=Table;v=v1;g=meta.k8s.io`; for a custom resource the API
server turns each object into one row: its name, then one cell per additionalPrinterColumn,
evaluated with the column's JSONPath (apiextensions-apiserver's tableconvertor). A `date` cell is
an age (apimachinery's duration.HumanDuration, so an instant in the future is "<invalid>"); a
missing value is null, which kubectl prints as "<none>".
"""

import json
import re
from datetime import UTC, datetime
from typing import Any

Obj = dict[str, Any]

_FILTER = re.compile(r'^\[\?\(@\.([A-Za-z0-9_]+)=="([^"]*)"\)\]$')
_STEP = re.compile(r"\.([A-Za-z0-9_]+)|(\[\?\(@\.[A-Za-z0-9_]+==\"[^\"]*\"\)\])")


def evaluate(obj: Any, path: str) -> list[Any]:
    """The values a simple JSONPath (`.a.b`, `.a[?(@.k=="v")].b`) finds in `obj`."""
    found = [obj]
    for name, condition in _STEP.findall(path):
        following: list[Any] = []
        for value in found:
            if name and isinstance(value, dict) and name in value:
                following.append(value[name])
            elif condition and isinstance(value, list):
                match = _FILTER.match(condition)
                assert match is not None
                key, wanted = match.groups()
                following += [
                    item for item in value if isinstance(item, dict) and str(item.get(key)) == wanted
                ]
        found = following
    return found


def human_duration(seconds: float) -> str:
    """apimachinery's duration.HumanDuration."""
    if int(seconds) < -1:
        return "<invalid>"
    if int(seconds) < 0:
        return "0s"
    if seconds < 120:
        return f"{int(seconds)}s"
    minutes = int(seconds // 60)
    if minutes < 10:
        rest = int(seconds) % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = int(seconds // 3600)
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        rest = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if rest == 0 else f"{hours // 24 // 365}y{rest}d"
    return f"{hours // 24 // 365}y"


def _cell(kind: str, value: Any) -> Any:
    if kind == "string":
        return value if isinstance(value, str) else json.dumps(value)
    if kind == "date":
        try:
            instant = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return "<invalid>"
        return human_duration((datetime.now(UTC) - instant).total_seconds())
    if kind == "boolean":
        return value if isinstance(value, bool) else None
    if kind == "integer":
        return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
    if kind == "number":
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
    return None


def wants_table(accept: str) -> bool:
    return "as=Table" in accept


def table(columns: list[Obj], objects: list[Obj], resource_version: str) -> Obj:
    definitions = [{"name": "Name", "type": "string", "format": "name", "description": "Name", "priority": 0}]
    definitions += [
        {"name": c["name"], "type": c["type"], "format": c.get("format", ""),
         "description": c.get("description", c["jsonPath"]), "priority": c.get("priority", 0)}
        for c in columns
    ]  # fmt: skip
    rows = []
    for obj in objects:
        cells: list[Any] = [obj["metadata"]["name"]]
        for column in columns:
            values = evaluate(obj, column["jsonPath"])
            cells.append(_cell(column["type"], values[0]) if values and values[0] is not None else None)
        partial = {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": obj["metadata"],
        }
        rows.append({"cells": cells, "object": partial})
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": definitions,
        "rows": rows,
    }
