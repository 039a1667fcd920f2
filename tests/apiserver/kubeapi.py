"""A small Kubernetes API server for the e2e tests, faithful to what kopf and the operator use.

Run it as a process: `python tests/apiserver/kubeapi.py --port 0 --ready-file F [--record F]`.
It serves, over real HTTP:
- discovery (/version, /api, /api/v1, /apis, /apis/G/V), built-ins (namespaces, events,
  leases, CRDs) and every CRD posted to it, with its structural schema validated and pruned;
- list (with limit/continue) and watch with resourceVersion, bookmarks, timeoutSeconds and
  `410 Gone` when the requested version has been compacted away;
- create (uid, resourceVersion, generation, creationTimestamp, generateName), get, replace,
  merge-patch / JSON-patch / strategic-merge (as merge), delete (finalizers honoured);
- the status subresource: writes to /status change only status, writes to the object never
  change status; generation grows only when something outside metadata and status changes;
- an optional record of every request (verb, group, resource, subresource, namespace), from
  which the chart's RBAC rules are checked.
- validating admission webhooks (admission.py): ValidatingWebhookConfigurations with `url`
  client configs are called over HTTPS with their caBundle, as kube-apiserver calls them;
- `?dryRun=All`: every check, nothing stored.
What it does not do: authentication, mutating webhooks, webhooks behind a Service (only `url`),
CEL rules; field selectors are equality terms only.
"""

import argparse
import asyncio
import contextvars
import copy
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import admission  # sibling modules: this file runs as a script, its directory on sys.path
import jsonpatch
import jsonschema
import tables  # a sibling module: this file runs as a script, its directory on sys.path
from aiohttp import web

Obj = dict[str, Any]
EVENT_LOG_LIMIT = 20_000
BOOKMARK_INTERVAL = 5.0


_agent: contextvars.ContextVar[str] = contextvars.ContextVar("agent", default="")
"""The User-Agent of the request being handled (each aiohttp request runs in its own task)."""
_pending_record: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "pending_record", default=None
)
"""The record entry of the request being handled, written once its response code is known."""


def _flag(value: str | None) -> bool:
    """A boolean query parameter as kube-apiserver reads it (Go's strconv.ParseBool)."""
    return (value or "").lower() in ("1", "t", "true")


@dataclass
class Resource:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    singular: str = ""
    short_names: list[str] = field(default_factory=list)
    status_subresource: bool = False
    schema: Obj | None = None
    printer_columns: list[Obj] | None = None
    """A custom resource's additionalPrinterColumns (kubectl get asks for a Table of them)."""
    verbs: tuple[str, ...] = ("create", "delete", "get", "list", "patch", "update", "watch")

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def discovery(self) -> Obj:
        entries = [
            {
                "name": self.plural,
                "singularName": self.singular or self.kind.lower(),
                "namespaced": self.namespaced,
                "kind": self.kind,
                "verbs": list(self.verbs),
                "shortNames": self.short_names,
            }
        ]
        if self.status_subresource:
            entries.append(
                {"name": f"{self.plural}/status", "singularName": "", "namespaced": self.namespaced,
                 "kind": self.kind, "verbs": ["get", "patch", "update"]}
            )  # fmt: skip
        return {"entries": entries}


BUILTINS = [
    Resource("", "v1", "namespaces", "Namespace", namespaced=False),
    Resource("", "v1", "events", "Event", namespaced=True),
    Resource("", "v1", "secrets", "Secret", namespaced=True),
    Resource("", "v1", "services", "Service", namespaced=True),
    Resource(
        "admissionregistration.k8s.io",
        "v1",
        "validatingwebhookconfigurations",
        "ValidatingWebhookConfiguration",
        namespaced=False,
    ),
    Resource("events.k8s.io", "v1", "events", "Event", namespaced=True),
    Resource("coordination.k8s.io", "v1", "leases", "Lease", namespaced=True),
    Resource(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        namespaced=False,
    ),
]


VALIDATING_WEBHOOKS = ("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations")


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _openapi_to_jsonschema(schema: Any) -> Any:
    if isinstance(schema, dict):
        out = {k: _openapi_to_jsonschema(v) for k, v in schema.items() if not k.startswith("x-kubernetes-")}
        if schema.get("nullable"):
            out["type"] = [out["type"], "null"] if "type" in out else out.get("type")
        out.pop("nullable", None)
        return out
    if isinstance(schema, list):
        return [_openapi_to_jsonschema(v) for v in schema]
    return schema


def field_selected(obj: Obj, selector: str) -> bool:
    """Whether `obj` matches a field selector of equality terms (`a.b=c`, `a.b==c`, `a.b!=c`,
    comma-separated), as `kubectl describe` sends for a resource's Events."""
    for term in filter(None, selector.split(",")):
        negated = "!=" in term
        path, _, wanted = term.partition("!=") if negated else term.replace("==", "=").partition("=")
        value: Any = obj
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if (str(value if value is not None else "") == wanted) == negated:
            return False
    return True


def _error_path(error: jsonschema.ValidationError) -> str:
    """The field an error is about, as the real API server names it: a missing property by its
    own path ("spec.schedule: Required value"), not by its parent's."""
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        path.append(str(error.message).split("'")[1])
    return ".".join(path)


def prune(value: Any, schema: Obj | None) -> Any:
    """Drop fields the structural schema does not declare, as the real API server does."""
    if schema is None or schema.get("x-kubernetes-preserve-unknown-fields"):
        return value
    if isinstance(value, dict) and schema.get("type") == "object":
        if "properties" in schema:
            return {
                k: prune(v, schema["properties"][k]) for k, v in value.items() if k in schema["properties"]
            }
        if isinstance(schema.get("additionalProperties"), dict):
            return {k: prune(v, schema["additionalProperties"]) for k, v in value.items()}
        return value
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [prune(v, schema["items"]) for v in value]
    return value


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message

    def body(self) -> Obj:
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": self.reason, "code": self.code}  # fmt: skip


class Store:
    def __init__(self) -> None:
        self.resources: dict[tuple[str, str, str], Resource] = {}
        self.objects: dict[tuple[str, str, str], dict[tuple[str, str], Obj]] = {}
        self.log: dict[tuple[str, str, str], list[tuple[int, str, Obj]]] = {}
        self.compacted: dict[tuple[str, str, str], int] = {}
        self.watchers: dict[tuple[str, str, str], set[asyncio.Queue[tuple[int, str, Obj] | None]]] = {}
        self.revision = 1
        for resource in BUILTINS:
            self.register(resource)
        for namespace in ("default", "kube-system"):
            self.create(self.resources[("", "v1", "namespaces")], None, {"metadata": {"name": namespace}})

    def register(self, resource: Resource) -> None:
        key = (resource.group, resource.version, resource.plural)
        self.resources[key] = resource
        self.objects.setdefault(key, {})
        self.log.setdefault(key, [])
        self.compacted.setdefault(key, 0)
        self.watchers.setdefault(key, set())

    def _emit(self, resource: Resource, kind: str, obj: Obj) -> None:
        key = (resource.group, resource.version, resource.plural)
        revision = int(obj["metadata"]["resourceVersion"])
        entry = (revision, kind, copy.deepcopy(obj))
        log = self.log[key]
        log.append(entry)
        if len(log) > EVENT_LOG_LIMIT:
            dropped = log[: len(log) - EVENT_LOG_LIMIT]
            del log[: len(log) - EVENT_LOG_LIMIT]
            self.compacted[key] = dropped[-1][0]
        for queue in self.watchers[key]:
            queue.put_nowait(entry)

    def _next_revision(self) -> str:
        self.revision += 1
        return str(self.revision)

    def _validate(self, resource: Resource, obj: Obj) -> Obj:
        if resource.schema is None:
            return obj
        pruned = {k: v for k, v in obj.items() if k in ("apiVersion", "kind", "metadata")}
        pruned.update(prune({k: v for k, v in obj.items() if k not in pruned}, resource.schema))
        checked = {k: v for k, v in pruned.items() if k != "metadata"}
        errors = sorted(
            jsonschema.Draft7Validator(_openapi_to_jsonschema(resource.schema)).iter_errors(checked),
            key=lambda e: list(e.absolute_path),
        )
        if errors:
            details = "; ".join(f"{_error_path(e)}: {e.message}" for e in errors[:5])
            name = obj.get("metadata", {}).get("name")
            raise ApiError(422, "Invalid", f'{resource.kind} "{name}" is invalid: {details}')
        return pruned

    def create(self, resource: Resource, namespace: str | None, body: Obj, *, dry_run: bool = False) -> Obj:
        obj = copy.deepcopy(body)
        meta = obj.setdefault("metadata", {})
        if resource.plural == "namespaces" and meta.get("name"):  # as kube-apiserver labels every one
            meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        if not meta.get("name"):
            raise ApiError(422, "Invalid", "metadata.name: Required value")
        if resource.namespaced:
            namespace = namespace or meta.get("namespace") or "default"
            if ("", namespace) not in self.objects[("", "v1", "namespaces")]:
                raise ApiError(404, "NotFound", f'namespaces "{namespace}" not found')
            meta["namespace"] = namespace
        key = (meta.get("namespace", ""), meta["name"])
        store = self.objects[(resource.group, resource.version, resource.plural)]
        if key in store:
            raise ApiError(409, "AlreadyExists", f'{resource.plural} "{meta["name"]}" already exists')
        obj["apiVersion"], obj["kind"] = resource.api_version, resource.kind
        obj = self._validate(resource, obj)
        meta = obj["metadata"]
        if resource.status_subresource:
            obj.pop("status", None)
        meta.update(uid=str(uuid.uuid4()), creationTimestamp=now_iso(), generation=1)
        if dry_run:
            return obj
        meta["resourceVersion"] = self._next_revision()
        store[key] = obj
        self._emit(resource, "ADDED", obj)
        if resource.plural == "customresourcedefinitions":
            self._establish(obj)
        return obj

    def _establish(self, crd: Obj) -> None:
        spec = crd["spec"]
        for version in spec["versions"]:
            self.register(
                Resource(
                    spec["group"], version["name"], spec["names"]["plural"], spec["names"]["kind"],
                    namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                    singular=spec["names"].get("singular", ""),
                    short_names=spec["names"].get("shortNames", []),
                    status_subresource="status" in version.get("subresources", {}),
                    schema=version.get("schema", {}).get("openAPIV3Schema"),
                    printer_columns=version.get("additionalPrinterColumns", []),
                )
            )  # fmt: skip
        crd["status"] = {"conditions": [{"type": "Established", "status": "True"}],
                         "acceptedNames": spec["names"]}  # fmt: skip

    def get(self, resource: Resource, namespace: str | None, name: str) -> Obj:
        obj = self.objects[(resource.group, resource.version, resource.plural)].get((namespace or "", name))
        if obj is None:
            raise ApiError(404, "NotFound", f'{resource.plural}.{resource.group} "{name}" not found')
        return obj

    def update(
        self,
        resource: Resource,
        namespace: str | None,
        name: str,
        new: Obj,
        subresource: str | None,
        *,
        dry_run: bool = False,
    ) -> Obj:
        old = self.get(resource, namespace, name)
        wanted_rv = new.get("metadata", {}).get("resourceVersion")
        if wanted_rv and wanted_rv != old["metadata"]["resourceVersion"]:
            raise ApiError(
                409,
                "Conflict",
                "the object has been modified; please apply your changes to the latest version",
            )
        if subresource == "status":
            obj = copy.deepcopy(old)
            if "status" in new:
                obj["status"] = new["status"]
        else:
            obj = copy.deepcopy(new)
            meta = obj.setdefault("metadata", {})
            for fixed in ("uid", "creationTimestamp", "generation", "namespace", "name", "deletionTimestamp"):
                if fixed in old["metadata"]:
                    meta[fixed] = old["metadata"][fixed]
            if resource.status_subresource:
                obj.pop("status", None)
                if "status" in old:
                    obj["status"] = old["status"]
        obj["apiVersion"], obj["kind"] = resource.api_version, resource.kind
        obj = self._validate(resource, obj)
        outside = lambda o: {k: v for k, v in o.items() if k not in ("metadata", "status")}  # noqa: E731
        if outside(obj) != outside(old):
            obj["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1
        if obj == old or dry_run:
            return old if obj == old else obj  # a no-op write keeps the resourceVersion and emits nothing
        obj["metadata"]["resourceVersion"] = self._next_revision()
        self.objects[(resource.group, resource.version, resource.plural)][(namespace or "", name)] = obj
        if obj["metadata"].get("deletionTimestamp") and not obj["metadata"].get("finalizers"):
            return self._remove(resource, obj)
        self._emit(resource, "MODIFIED", obj)
        return obj

    def patch(self, resource: Resource, namespace: str | None, name: str, content_type: str, patch: Any,
              subresource: str | None, *, dry_run: bool = False) -> Obj:  # fmt: skip
        old = self.get(resource, namespace, name)
        if "json-patch" in content_type:
            try:
                new = jsonpatch.apply_patch(old, patch)
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as error:
                raise ApiError(422, "Invalid", str(error)) from None
        else:
            new = merge_patch(old, patch)
        if isinstance(patch, dict) and "resourceVersion" not in patch.get("metadata", {}):
            new.setdefault("metadata", {})["resourceVersion"] = old["metadata"]["resourceVersion"]
        return self.update(resource, namespace, name, new, subresource, dry_run=dry_run)

    def delete(self, resource: Resource, namespace: str | None, name: str) -> Obj:
        obj = self.get(resource, namespace, name)
        if obj["metadata"].get("finalizers"):
            if not obj["metadata"].get("deletionTimestamp"):
                marked = copy.deepcopy(obj)
                marked["metadata"]["deletionTimestamp"] = now_iso()
                marked["metadata"]["resourceVersion"] = self._next_revision()
                self.objects[(resource.group, resource.version, resource.plural)][(namespace or "", name)] = (
                    marked
                )
                self._emit(resource, "MODIFIED", marked)
                return marked
            return obj
        return self._remove(resource, obj)

    def _remove(self, resource: Resource, obj: Obj) -> Obj:
        meta = obj["metadata"]
        del self.objects[(resource.group, resource.version, resource.plural)][
            (meta.get("namespace", ""), meta["name"])
        ]
        gone = copy.deepcopy(obj)
        gone["metadata"]["resourceVersion"] = self._next_revision()
        self._emit(resource, "DELETED", gone)
        return gone

    def listing(self, resource: Resource, namespace: str | None) -> list[Obj]:
        items = self.objects[(resource.group, resource.version, resource.plural)]
        return [o for (ns, _), o in sorted(items.items()) if namespace is None or ns == namespace]


@dataclass
class Route:
    resource: Resource
    namespace: str | None
    name: str | None
    subresource: str | None


class ApiServer:
    def __init__(self, record: Path | None) -> None:
        self.store = Store()
        self.record = record.open("a", buffering=1) if record else None
        self.paused = False

    def _resolve(self, parts: list[str]) -> Route:
        if parts[0] == "api":
            group, version, rest = "", parts[1], parts[2:]
        else:
            group, version, rest = parts[1], parts[2], parts[3:]
        namespace = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        elif group == "" and len(rest) >= 1 and rest[0] == "namespaces" and len(rest) <= 3:
            pass  # the namespaces resource itself
        plural, name, sub = rest[0], rest[1] if len(rest) > 1 else None, rest[2] if len(rest) > 2 else None
        resource = self.store.resources.get((group, version, plural))
        if resource is None:
            raise ApiError(
                404,
                "NotFound",
                f"the server could not find the requested resource ({group}/{version}/{plural})",
            )
        return Route(resource, namespace, name, sub)

    async def _admit(self, route: Route, operation: str, obj: Obj, old: Obj | None) -> None:
        """The validating webhooks' say on a write, before it is stored."""
        resource = route.resource
        configurations = self.store.listing(self.store.resources[VALIDATING_WEBHOOKS], None)
        if not configurations:
            return
        namespace = obj.get("metadata", {}).get("namespace", "")
        labels = {}
        if resource.namespaced:
            found = self.store.objects[("", "v1", "namespaces")].get(("", namespace))
            labels = (found or {}).get("metadata", {}).get("labels") or {}
        target = admission.Target(resource.group, resource.version, resource.plural, resource.kind,
                                  resource.namespaced, route.subresource, operation)  # fmt: skip
        try:
            await admission.admit(configurations, labels, target, obj, old)
        except admission.Refusal as refusal:
            raise ApiError(refusal.code, refusal.reason, refusal.message) from None

    def _record(self, verb: str, route: Route) -> None:
        """Note the request; it is written with its response code (watches: when they start)."""
        if self.record:
            _pending_record.set({"verb": verb, "group": route.resource.group, "resource": route.resource.plural,
                                 "subresource": route.subresource, "namespace": route.namespace,
                                 "agent": _agent.get()})  # fmt: skip

    def _write_record(self, code: int) -> None:
        entry = _pending_record.get()
        if self.record and entry is not None:
            _pending_record.set(None)
            self.record.write(json.dumps({**entry, "code": code}) + "\n")

    async def handle(self, request: web.Request) -> web.StreamResponse:
        _agent.set(request.headers.get("User-Agent", ""))
        _pending_record.set(None)
        try:
            response = await self._handle(request)
        except ApiError as error:
            self._write_record(error.code)
            return web.json_response(error.body(), status=error.code)
        self._write_record(response.status)
        return response

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        parts = [p for p in request.path.split("/") if p]
        if not parts:
            return web.json_response({"paths": ["/api", "/apis", "/version"]})
        if parts == ["version"]:
            return web.json_response(
                {"major": "1", "minor": "32", "gitVersion": "v1.32.0-ecs-scheduler-test"}
            )
        if parts == ["healthz"] or parts == ["readyz"]:
            return web.Response(text="ok")
        if parts == ["api"]:
            return web.json_response({"kind": "APIVersions", "versions": ["v1"]})
        if parts == ["apis"]:
            return web.json_response(self._groups())
        if (parts[0] == "api" and len(parts) == 2) or (parts[0] == "apis" and len(parts) == 3):
            group, version = ("", parts[1]) if parts[0] == "api" else (parts[1], parts[2])
            return web.json_response(self._resource_list(group, version))
        if parts[0] not in ("api", "apis"):
            raise ApiError(404, "NotFound", "not found")
        route = self._resolve(parts)
        method = request.method
        if method == "GET" and route.name is None:
            watching = _flag(request.query.get("watch"))
            self._record("watch" if watching else "list", route)
            return await (self._watch(request, route) if watching else self._list(request, route))
        if method == "GET":
            self._record("get", route)
            obj = self.store.get(route.resource, route.namespace, route.name)
            if route.resource.printer_columns is not None and tables.wants_table(
                request.headers.get("Accept", "")
            ):
                return web.json_response(
                    tables.table(route.resource.printer_columns, [obj], obj["metadata"]["resourceVersion"])
                )
            return web.json_response(obj)
        accepted = ("application/json", "application/merge-patch+json", "application/json-patch+json",
                    "application/strategic-merge-patch+json", "application/apply-patch+yaml")  # fmt: skip
        if method in ("POST", "PUT", "PATCH") and request.content_type not in accepted:
            # As kube-apiserver: a body in no known media type is refused, whatever it holds.
            raise ApiError(
                415,
                "UnsupportedMediaType",
                f"the body of the request was in an unknown format: {request.content_type}",
            )
        body = await request.json() if request.can_read_body else {}
        dry_run = request.query.get("dryRun") == "All"
        if method == "POST":
            self._record("create", route)
            created = self.store.create(route.resource, route.namespace, body, dry_run=True)
            await self._admit(route, "CREATE", created, None)
            if not dry_run:
                created = self.store.create(route.resource, route.namespace, body)
            return web.json_response(created, status=201)
        if route.name is None:
            raise ApiError(405, "MethodNotAllowed", f"{method} on a collection")
        if method in ("PUT", "PATCH"):
            self._record("update" if method == "PUT" else "patch", route)
            old = copy.deepcopy(self.store.get(route.resource, route.namespace, route.name))

            def write(dry: bool) -> Obj:
                if method == "PUT":
                    return self.store.update(
                        route.resource, route.namespace, route.name, body, route.subresource, dry_run=dry
                    )
                return self.store.patch(route.resource, route.namespace, route.name, request.content_type,
                                        body, route.subresource, dry_run=dry)  # fmt: skip

            updated = write(True)
            await self._admit(route, "UPDATE", updated, old)
            return web.json_response(updated if dry_run else write(False))
        if method == "DELETE":
            self._record("delete", route)
            return web.json_response(self.store.delete(route.resource, route.namespace, route.name))
        raise ApiError(405, "MethodNotAllowed", method)

    def _groups(self) -> Obj:
        groups: dict[str, list[str]] = {}
        for group, version, _ in self.store.resources:
            if group and version not in groups.setdefault(group, []):
                groups[group].append(version)
        return {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [
                {"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in vs],
                 "preferredVersion": {"groupVersion": f"{g}/{vs[0]}", "version": vs[0]}}
                for g, vs in sorted(groups.items())
            ],
        }  # fmt: skip

    def _resource_list(self, group: str, version: str) -> Obj:
        resources = [r for (g, v, _), r in self.store.resources.items() if g == group and v == version]
        if not resources:
            raise ApiError(404, "NotFound", f"no group version {group}/{version}")
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version,
            "resources": [entry for r in resources for entry in r.discovery()["entries"]],
        }

    async def _list(self, request: web.Request, route: Route) -> web.Response:
        selector = request.query.get("fieldSelector", "")
        items = [
            o for o in self.store.listing(route.resource, route.namespace) if field_selected(o, selector)
        ]
        offset = int(request.query.get("continue") or 0)
        limit = int(request.query.get("limit") or 0)
        page = items[offset : offset + limit] if limit else items[offset:]
        following = str(offset + limit) if limit and offset + limit < len(items) else ""
        if route.resource.printer_columns is not None and tables.wants_table(
            request.headers.get("Accept", "")
        ):
            return web.json_response(
                tables.table(route.resource.printer_columns, page, str(self.store.revision))
            )
        return web.json_response({
            "kind": f"{route.resource.kind}List",
            "apiVersion": route.resource.api_version,
            "metadata": {"resourceVersion": str(self.store.revision), "continue": following},
            "items": page,
        })  # fmt: skip

    async def _watch(self, request: web.Request, route: Route) -> web.StreamResponse:
        resource = route.resource
        key = (resource.group, resource.version, resource.plural)
        since = request.query.get("resourceVersion")
        timeout = float(request.query.get("timeoutSeconds") or 1800)
        bookmarks = _flag(request.query.get("allowWatchBookmarks"))
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        self._write_record(response.status)  # a watch is recorded when it starts, not when it ends
        queue: asyncio.Queue[tuple[int, str, Obj] | None] = asyncio.Queue()
        self.store.watchers[key].add(queue)

        selector = request.query.get("fieldSelector", "")

        def visible(obj: Obj) -> bool:
            in_namespace = route.namespace is None or obj["metadata"].get("namespace") == route.namespace
            return in_namespace and field_selected(obj, selector)

        async def send(kind: str, obj: Obj) -> None:
            await response.write(json.dumps({"type": kind, "object": obj}).encode() + b"\n")

        try:
            if since in (None, "", "0"):
                for obj in self.store.listing(resource, route.namespace):
                    await send("ADDED", obj)
                last = self.store.revision
            else:
                last = int(since)
                if last < self.store.compacted[key]:
                    await send("ERROR", ApiError(410, "Expired", f"too old resource version: {last}").body())
                    return response
                for revision, kind, obj in list(self.store.log[key]):
                    if revision > last and visible(obj):
                        await send(kind, obj)
                        last = revision
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while (remaining := deadline - loop.time()) > 0:
                try:
                    entry = await asyncio.wait_for(queue.get(), min(remaining, BOOKMARK_INTERVAL))
                except TimeoutError:
                    if bookmarks:
                        await send("BOOKMARK", {"kind": resource.kind, "apiVersion": resource.api_version,
                                                "metadata": {"resourceVersion": str(self.store.revision)}})  # fmt: skip
                    continue
                if entry is None:
                    break
                revision, kind, obj = entry
                if revision > last and visible(obj):
                    await send(kind, obj)
                    last = revision
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.store.watchers[key].discard(queue)
        return response


def make_app(record: Path | None = None) -> web.Application:
    server = ApiServer(record)
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app["server"] = server
    app.router.add_route("*", "/{tail:.*}", server.handle)
    return app


async def serve(port: int, ready_file: Path | None, record: Path | None) -> None:
    runner = web.AppRunner(make_app(record), handle_signals=True, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    actual = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    if ready_file:
        ready_file.write_text(str(actual))  # noqa: ASYNC240  (once, at start-up)
    print(f"serving on http://127.0.0.1:{actual}", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ready-file", type=Path)
    parser.add_argument("--record", type=Path, help="append one JSON line per request")
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.ready_file, args.record))


if __name__ == "__main__":
    main()
