"""The Lease boundary: read, create and replace one coordination.k8s.io/v1 Lease."""

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import kubernetes
from kubernetes.client.exceptions import ApiException

from ecs_scheduler.adapters.kube import load_client_config
from ecs_scheduler.model import names


class LeaseApi(Protocol):
    async def read(self, namespace: str, name: str) -> dict[str, Any] | None: ...

    async def create(self, namespace: str, body: dict[str, Any]) -> bool:
        """False when someone created it first."""
        ...

    async def replace(self, namespace: str, name: str, body: dict[str, Any]) -> bool:
        """False when the Lease changed since it was read."""
        ...


class ClientLease:
    """LeaseApi over the kubernetes client, in its own small thread pool."""

    def __init__(self) -> None:
        client = kubernetes.client.ApiClient(load_client_config())
        client.user_agent = names.USER_AGENT
        self._api = kubernetes.client.CoordinationV1Api(client)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lease")

    async def _run(self, call: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    async def read(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            response = await self._run(
                lambda: self._api.read_namespaced_lease(name, namespace, _preload_content=False)
            )
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return dict(json.loads(response.data))

    async def create(self, namespace: str, body: dict[str, Any]) -> bool:
        try:
            await self._run(
                lambda: self._api.create_namespaced_lease(namespace, body, _preload_content=False)
            )
        except ApiException as error:
            if error.status == 409:
                return False
            raise
        return True

    async def replace(self, namespace: str, name: str, body: dict[str, Any]) -> bool:
        try:
            await self._run(
                lambda: self._api.replace_namespaced_lease(name, namespace, body, _preload_content=False)
            )
        except ApiException as error:
            if error.status == 409:
                return False
            raise
        return True
