"""The Kubernetes boundary: status merge-patches and Events, off the event loop.

kopf watches; these writes happen outside kopf's handlers (the scheduler fires on its own
clock), so they go through the official client in a small thread pool.
"""

import asyncio
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Protocol

import kubernetes
from kubernetes.client.exceptions import ApiException

from ecs_scheduler import __version__
from ecs_scheduler.model import names

logger = logging.getLogger(__name__)


class ObjectGone(Exception):
    """The object was deleted: nothing to write any more."""


class KubeWriter(Protocol):
    """The Kubernetes writes the operator makes."""

    async def patch_status(self, namespace: str, name: str, status: dict[str, Any]) -> None: ...

    async def post_event(
        self, *, namespace: str, name: str, uid: str, type_: str, reason: str, message: str
    ) -> None: ...

    def close(self) -> None: ...


def load_client_config() -> kubernetes.client.Configuration:
    """In-cluster credentials when running in a pod, else the kubeconfig (KUBECONFIG)."""
    configuration = kubernetes.client.Configuration()
    try:
        kubernetes.config.load_incluster_config(client_configuration=configuration)
    except kubernetes.config.ConfigException:
        kubernetes.config.load_kube_config(client_configuration=configuration)
    return configuration


class ClientKubeWriter:
    """KubeWriter over the official kubernetes client."""

    def __init__(self, *, concurrency: int = 8, component: str = "ecs-scheduler") -> None:
        configuration = load_client_config()
        configuration.connection_pool_maxsize = concurrency
        self._api_client = kubernetes.client.ApiClient(configuration)
        # Audit logs (and the tests' RBAC record) tell the operator's requests apart by this.
        self._api_client.user_agent = f"ecs-scheduler/{__version__}"
        self._custom = kubernetes.client.CustomObjectsApi(self._api_client)
        self._core = kubernetes.client.CoreV1Api(self._api_client)
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="kube")
        self._component = component

    def _patch_status_blocking(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        try:
            self._custom.patch_namespaced_custom_object_status(
                names.GROUP, names.VERSION, namespace, names.PLURAL, name, {"status": status}
            )
        except ApiException as error:
            if error.status == 404:
                raise ObjectGone(f"{namespace}/{name}") from None
            raise

    async def patch_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._patch_status_blocking, namespace, name, status)

    def _event_blocking(self, body: dict[str, Any]) -> None:
        self._core.create_namespaced_event(body["metadata"]["namespace"], body)

    async def post_event(
        self, *, namespace: str, name: str, uid: str, type_: str, reason: str, message: str
    ) -> None:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"namespace": namespace, "name": f"{name}.{uuid.uuid4().hex[:16]}"},
            "involvedObject": {
                "apiVersion": f"{names.GROUP}/{names.VERSION}",
                "kind": names.KIND,
                "namespace": namespace,
                "name": name,
                "uid": uid,
            },
            "type": type_,
            "reason": reason,
            "message": message[:1024],
            "source": {"component": self._component},
            "reportingComponent": self._component,
            "reportingInstance": self._component,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._executor, self._event_blocking, body)
        except ApiException as error:
            logger.warning("could not post event %s for %s/%s: %s", reason, namespace, name, error.reason)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._api_client.close()
