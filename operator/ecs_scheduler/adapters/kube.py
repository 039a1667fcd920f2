"""The Kubernetes boundary: status merge-patches and Events, on the event loop.

kopf watches; these writes happen outside kopf's handlers (the scheduler fires on its own
clock), so they go through the operator's own asyncio client (adapters/kubehttp.py).
"""

import base64
import logging
from typing import Any, Protocol

import kubernetes

from ecs_scheduler.adapters.kubehttp import MERGE_PATCH, KubeHttp
from ecs_scheduler.model import names

logger = logging.getLogger(__name__)


class ObjectGone(Exception):
    """The object was deleted (or, for an Event, expired): nothing to write any more."""


class KubeError(Exception):
    """The API server refused a write."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


class StatusWriter(Protocol):
    async def patch_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        """Merge `status` into an object's `.status`. Raises ObjectGone, KubeError."""
        ...


class KubeWriter(Protocol):
    """The Kubernetes writes the operator makes."""

    async def patch_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        """Merge `status` into the job's `.status`. Raises ObjectGone, KubeError."""
        ...

    async def create_event(self, namespace: str, event: dict[str, Any]) -> None: ...

    async def patch_event(self, namespace: str, name: str, patch: dict[str, Any]) -> None:
        """Merge `patch` into an Event. Raises ObjectGone when it has expired."""
        ...

    async def close(self) -> None: ...


class RunObjects(Protocol):
    """Writes to ScheduledEcsJobRuns besides their status."""

    async def adopt_run(self, namespace: str, name: str, owner: dict[str, Any]) -> None:
        """Make the run owned by its job (garbage-collected with it). Raises ObjectGone, KubeError."""
        ...

    async def delete_run(self, namespace: str, name: str, uid: str) -> None:
        """Delete the run, if it is still the one with this uid. Raises KubeError."""
        ...


class SecretReader(Protocol):
    async def secret_value(self, namespace: str, name: str, key: str) -> bytes:
        """One key of a Secret, decoded. Raises KubeError (404 when it is missing)."""
        ...


def load_client_config() -> kubernetes.client.Configuration:
    """In-cluster credentials when running in a pod, else the kubeconfig (KUBECONFIG)."""
    configuration = kubernetes.client.Configuration()
    try:
        kubernetes.config.load_incluster_config(client_configuration=configuration)
    except kubernetes.config.ConfigException:
        kubernetes.config.load_kube_config(client_configuration=configuration)
    return configuration


class HttpKubeWriter:
    """KubeWriter over the operator's asyncio client."""

    def __init__(self, http: KubeHttp) -> None:
        self._http = http

    @classmethod
    def from_environment(cls, *, concurrency: int) -> "HttpKubeWriter":
        return cls(KubeHttp(load_client_config(), concurrency=concurrency, user_agent=names.USER_AGENT))

    async def _patch(self, path: str, body: dict[str, Any]) -> None:
        answer = await self._http.request("PATCH", path, body=body, content_type=MERGE_PATCH)
        if answer.status == 404:
            raise ObjectGone(path)
        if answer.status >= 400:
            raise KubeError(answer.status, answer.message())

    async def patch_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        path = f"/apis/{names.GROUP}/{names.VERSION}/namespaces/{namespace}/{names.PLURAL}/{name}/status"
        await self._patch(path, {"status": status})

    def run_status(self) -> "RunStatusWriter":
        return RunStatusWriter(self)

    async def patch_run(self, namespace: str, name: str, body: dict[str, Any], *, status: bool) -> None:
        path = f"/apis/{names.GROUP}/{names.VERSION}/namespaces/{namespace}/{names.RUN_PLURAL}/{name}"
        await self._patch(path + ("/status" if status else ""), body)

    async def adopt_run(self, namespace: str, name: str, owner: dict[str, Any]) -> None:
        await self.patch_run(namespace, name, {"metadata": {"ownerReferences": [owner]}}, status=False)

    async def delete_run(self, namespace: str, name: str, uid: str) -> None:
        path = f"/apis/{names.GROUP}/{names.VERSION}/namespaces/{namespace}/{names.RUN_PLURAL}/{name}"
        # The uid precondition: a run deleted and created again under the same name is not ours.
        body = {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": uid},
                "propagationPolicy": "Background"}  # fmt: skip
        answer = await self._http.request("DELETE", path, body=body)
        if answer.status not in (200, 202, 404, 409):
            raise KubeError(answer.status, answer.message())

    async def create_event(self, namespace: str, event: dict[str, Any]) -> None:
        answer = await self._http.request("POST", f"/api/v1/namespaces/{namespace}/events", body=event)
        if answer.status >= 400:
            raise KubeError(answer.status, answer.message())

    async def patch_event(self, namespace: str, name: str, patch: dict[str, Any]) -> None:
        await self._patch(f"/api/v1/namespaces/{namespace}/events/{name}", patch)

    async def secret_value(self, namespace: str, name: str, key: str) -> bytes:
        answer = await self._http.request("GET", f"/api/v1/namespaces/{namespace}/secrets/{name}")
        if answer.status >= 400:
            raise KubeError(answer.status, answer.message())
        encoded = (answer.json().get("data") or {}).get(key)
        if encoded is None:
            raise KubeError(404, f"secret {namespace}/{name} has no key {key!r}")
        return base64.b64decode(encoded)

    async def close(self) -> None:
        await self._http.close()


class RunStatusWriter:
    """StatusWriter for ScheduledEcsJobRuns."""

    def __init__(self, writer: HttpKubeWriter) -> None:
        self._writer = writer

    async def patch_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        await self._writer.patch_run(namespace, name, {"status": status}, status=True)
