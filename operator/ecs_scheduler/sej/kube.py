"""The plugin's Kubernetes side: the user's kubeconfig, context and namespace."""

import time
from typing import Any

import kubernetes

from ecs_scheduler.model import names


class NotFound(Exception):
    """The job or run named does not exist."""


class Kube:
    def __init__(self, *, kubeconfig: str | None, context: str | None, namespace: str | None) -> None:
        configuration = kubernetes.client.Configuration()
        kubernetes.config.load_kube_config(
            config_file=kubeconfig, context=context, client_configuration=configuration
        )
        self.api = kubernetes.client.CustomObjectsApi(kubernetes.client.ApiClient(configuration))
        self.namespace = namespace or _context_namespace(kubeconfig, context)

    def _get(self, plural: str, name: str) -> dict[str, Any]:
        try:
            found = self.api.get_namespaced_custom_object(
                names.GROUP, names.VERSION, self.namespace, plural, name
            )
        except kubernetes.client.ApiException as error:
            if error.status == 404:
                kind = names.KIND if plural == names.PLURAL else names.RUN_KIND
                raise NotFound(f'{kind} "{name}" not found in namespace "{self.namespace}"') from None
            raise
        return dict(found)

    def job(self, name: str) -> dict[str, Any]:
        return self._get(names.PLURAL, name)

    def run(self, name: str) -> dict[str, Any]:
        return self._get(names.RUN_PLURAL, name)

    def runs_of(self, job: str) -> list[dict[str, Any]]:
        items = self.api.list_namespaced_custom_object(
            names.GROUP, names.VERSION, self.namespace, names.RUN_PLURAL
        )
        runs = [dict(item) for item in items["items"] if item.get("spec", {}).get("jobName") == job]
        return sorted(runs, key=lambda run: str(run["metadata"].get("creationTimestamp", "")))

    def create_run(self, job: str, spec: dict[str, Any]) -> dict[str, Any]:
        body = {"apiVersion": f"{names.GROUP}/{names.VERSION}", "kind": names.RUN_KIND,
                "metadata": {"generateName": f"{job[:40]}-"}, "spec": {"jobName": job, **spec}}  # fmt: skip
        created = self.api.create_namespaced_custom_object(names.GROUP, names.VERSION, self.namespace,
                                                           names.RUN_PLURAL, body)  # fmt: skip
        return dict(created)

    def set_suspended(self, job: str, suspended: bool) -> None:
        self.job(job)  # a clear "not found" first
        self.api.patch_namespaced_custom_object(names.GROUP, names.VERSION, self.namespace, names.PLURAL, job,
                                                {"spec": {"suspended": suspended}})  # fmt: skip

    def wait_for_end(self, run: str, timeout: float, interval: float = 1.0) -> dict[str, Any] | None:
        """The run once it finished (Succeeded or Failed); None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.run(run)
            if (found.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                return found
            if time.monotonic() >= deadline:
                return None
            time.sleep(interval)


def _context_namespace(kubeconfig: str | None, context: str | None) -> str:
    _, current = kubernetes.config.list_kube_config_contexts(config_file=kubeconfig)
    if context is not None:
        contexts, _ = kubernetes.config.list_kube_config_contexts(config_file=kubeconfig)
        current = next((c for c in contexts if c["name"] == context), current)
    return str((current or {}).get("context", {}).get("namespace") or "default")
