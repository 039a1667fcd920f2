"""Validating admission webhooks for the test API server, called as kube-apiserver calls them.

For a write, every webhook of every ValidatingWebhookConfiguration whose rules, namespaceSelector
and objectSelector match is sent an `admission.k8s.io/v1` AdmissionReview over HTTPS, verified
with its caBundle, within its timeoutSeconds. A denial becomes the API error kube-apiserver gives
(`admission webhook "NAME" denied the request: MESSAGE`, the webhook's code or 400); a call that
fails follows the failurePolicy (Fail: `failed calling webhook`, 500; Ignore: the write goes on).
Only `url` client configs: a Service cannot be reached from a process outside a cluster.
"""

import base64
import ssl
import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp

Obj = dict[str, Any]


class Refusal(Exception):
    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message


@dataclass(frozen=True)
class Target:
    """What is written: the resource's coordinates, its subresource and the operation."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    subresource: str | None
    operation: str


def _selected(selector: Obj | None, labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels, matchExpressions In/NotIn/Exists/DoesNotExist)."""
    if not selector:
        return True
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def _rule_matches(rule: Obj, target: Target) -> bool:
    def among(values: list[str], value: str) -> bool:
        return "*" in values or value in values

    wanted = target.plural + (f"/{target.subresource}" if target.subresource else "")
    resources = rule.get("resources") or []
    resource_ok = wanted in resources or (("*" in resources and not target.subresource) or "*/*" in resources)
    scope = rule.get("scope", "*")
    scope_ok = scope == "*" or (scope == "Namespaced") == target.namespaced
    return (
        among(rule.get("apiGroups") or [], target.group)
        and among(rule.get("apiVersions") or [], target.version)
        and among(rule.get("operations") or [], target.operation)
        and resource_ok
        and scope_ok
    )


def _review(target: Target, obj: Obj, old: Obj | None) -> Obj:
    meta = obj.get("metadata", {})
    kind = {"group": target.group, "version": target.version, "kind": target.kind}
    resource = {"group": target.group, "version": target.version, "resource": target.plural}
    request: Obj = {
        "uid": str(uuid.uuid4()), "kind": kind, "resource": resource, "requestKind": kind,
        "requestResource": resource, "name": meta.get("name", ""), "operation": target.operation,
        "userInfo": {"username": "e2e", "groups": ["system:authenticated"]}, "object": obj,
        "oldObject": old, "dryRun": False, "options": None,
    }  # fmt: skip
    if target.namespaced:
        request["namespace"] = meta.get("namespace", "")
    if target.subresource:
        request["subResource"] = target.subresource
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}


async def _call(webhook: Obj, review: Obj) -> Obj:
    client = webhook.get("clientConfig") or {}
    url = client.get("url")
    if not url:
        raise RuntimeError("only url client configs are served by the test API server")
    context = ssl.create_default_context()
    if client.get("caBundle"):
        context = ssl.create_default_context(cadata=base64.b64decode(client["caBundle"]).decode())
    timeout = aiohttp.ClientTimeout(total=webhook.get("timeoutSeconds", 10))
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.post(url, json=review, ssl=context) as response,
    ):
        response.raise_for_status()
        answer: Obj = await response.json()
        return answer


async def admit(
    configurations: list[Obj], namespace_labels: dict[str, str], target: Target, obj: Obj, old: Obj | None
) -> None:
    """Raise Refusal when a matching webhook denies the write, or fails under failurePolicy Fail."""
    for configuration in configurations:
        for webhook in configuration.get("webhooks") or []:
            if not any(_rule_matches(rule, target) for rule in webhook.get("rules") or []):
                continue
            if target.namespaced and not _selected(webhook.get("namespaceSelector"), namespace_labels):
                continue
            labels = (obj.get("metadata") or {}).get("labels") or {}
            if not _selected(webhook.get("objectSelector"), labels):
                continue
            name = webhook.get("name", "")
            try:
                answer = (await _call(webhook, _review(target, obj, old))).get("response") or {}
            except (TimeoutError, aiohttp.ClientError, RuntimeError, ValueError, ssl.SSLError) as error:
                if webhook.get("failurePolicy", "Fail") == "Ignore":
                    continue
                raise Refusal(
                    500, "InternalError", f'Internal error occurred: failed calling webhook "{name}": {error}'
                ) from None
            if not answer.get("allowed"):
                status = answer.get("status") or {}
                raise Refusal(
                    int(status.get("code") or 400),
                    str(status.get("reason") or "BadRequest"),
                    f'admission webhook "{name}" denied the request: {status.get("message", "")}',
                )
