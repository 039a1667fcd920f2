"""The chart's admission webhook: served by every replica over a certificate the API server trusts,
scoped to watchNamespaces, never called for the operator's own status writes."""

import base64
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from ecs_scheduler.handlers.admission import WEBHOOK_ID
from tests.unit.test_helm_chart import NAMESPACE, VARIANTS, objects, of_kind


def webhook(values: dict[str, Any]) -> dict[str, Any]:
    (configuration,) = of_kind(values, "ValidatingWebhookConfiguration")
    (hook,) = configuration["webhooks"]
    return dict(hook)


def test_the_webhook_judges_job_specs_only_never_status_writes_or_deletes() -> None:
    hook = webhook({})
    (rule,) = hook["rules"]
    assert rule["resources"] == ["scheduledecsjobs"], "…/status would put every status write behind it"
    assert rule["operations"] == ["CREATE", "UPDATE"]
    assert hook["sideEffects"] == "None" and hook["admissionReviewVersions"] == ["v1"]
    assert hook["clientConfig"]["service"]["path"] == f"/{WEBHOOK_ID}"
    assert (hook["failurePolicy"], hook["timeoutSeconds"]) == ("Fail", 5)


@pytest.mark.parametrize(
    ("watch", "selector"),
    [
        ([], {}),
        (["team-a", "team-b"], {"matchExpressions": [
            {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["team-a", "team-b"]}]}),
        (["team-a", "!team-a-legacy"], {"matchExpressions": [
            {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["team-a"]},
            {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["team-a-legacy"]}]}),
        # A glob is no label selector: every namespace calls, the operator allows what it does not serve.
        (["team-*", "!team-legacy"], {"matchExpressions": [
            {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["team-legacy"]}]}),
        (["team-a", "ops-*"], {}),
    ],
)  # fmt: skip
def test_the_namespaces_it_applies_to_follow_watch_namespaces(
    watch: list[str], selector: dict[str, Any]
) -> None:
    assert webhook({"watchNamespaces": watch})["namespaceSelector"] == selector


def _verifies(issuer: x509.Certificate, certificate: x509.Certificate) -> bool:
    key = issuer.public_key()
    signature, data = certificate.signature, certificate.tbs_certificate_bytes
    hash_algorithm = certificate.signature_hash_algorithm
    assert hash_algorithm is not None
    if isinstance(key, rsa.RSAPublicKey):
        key.verify(signature, data, padding.PKCS1v15(), hash_algorithm)
    else:
        assert isinstance(key, ec.EllipticCurvePublicKey)
        key.verify(signature, data, ec.ECDSA(hash_algorithm))
    return True


def test_helm_made_certificate_is_for_the_service_and_signed_by_the_ca_bundle() -> None:
    rendered = objects({})  # one render: each makes a new CA
    (configuration,) = [o for o in rendered if o["kind"] == "ValidatingWebhookConfiguration"]
    (secret,) = [o for o in rendered if o["kind"] == "Secret"]
    (hook,) = configuration["webhooks"]
    ca = x509.load_pem_x509_certificate(base64.b64decode(hook["clientConfig"]["caBundle"]))
    assert secret["data"]["ca.crt"] == hook["clientConfig"]["caBundle"]
    served = x509.load_pem_x509_certificate(base64.b64decode(secret["data"]["tls.crt"]))
    assert _verifies(ca, served)
    names = served.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName
    )
    service = hook["clientConfig"]["service"]
    assert f"{service['name']}.{NAMESPACE}.svc" in names  # the name the API server dials
    (deployment,) = [o for o in rendered if o["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v["name"] == "admission-tls")
    assert volume["secret"]["secretName"] == secret["metadata"]["name"]
    (container,) = pod["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    mount = next(m for m in container["volumeMounts"] if m["name"] == "admission-tls")
    assert env["ECS_SCHEDULER_ADMISSION_CERT_FILE"] == f"{mount['mountPath']}/tls.crt"
    assert env["ECS_SCHEDULER_ADMISSION_KEY_FILE"] == f"{mount['mountPath']}/tls.key"
    port = next(p for p in container["ports"] if p["name"] == "admission")
    assert str(port["containerPort"]) == env["ECS_SCHEDULER_ADMISSION_PORT"]
    services = {o["metadata"]["name"]: o for o in rendered if o["kind"] == "Service"}
    assert services[service["name"]]["spec"]["ports"][0]["targetPort"] == "admission"


def test_cert_manager_fills_the_ca_bundle_and_issues_into_the_mounted_secret() -> None:
    values = VARIANTS["cert-manager"]
    (configuration,) = of_kind(values, "ValidatingWebhookConfiguration")
    (certificate,) = of_kind(values, "Certificate")
    assert "caBundle" not in configuration["webhooks"][0]["clientConfig"]
    namespace, name = configuration["metadata"]["annotations"]["cert-manager.io/inject-ca-from"].split("/")
    assert (namespace, name) == (NAMESPACE, certificate["metadata"]["name"])
    assert certificate["spec"]["issuerRef"] == {"name": "cluster-ca", "kind": "ClusterIssuer"}
    assert of_kind(values, "Issuer") == [] and of_kind(values, "Secret") == []
    assert webhook(values)["failurePolicy"] == "Ignore"


def test_without_the_webhook_nothing_of_it_is_rendered() -> None:
    values = VARIANTS["no admission webhook"]
    assert of_kind(values, "ValidatingWebhookConfiguration") == []
    (deployment,) = of_kind(values, "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert not any(e["name"].startswith("ECS_SCHEDULER_ADMISSION") for e in container["env"])


def test_the_network_policy_lets_the_api_server_call_the_webhook() -> None:
    (policy,) = of_kind({"networkPolicy": {"enabled": True}}, "NetworkPolicy")
    rule = next(r for r in policy["spec"]["ingress"] if r["ports"][0]["port"] == "admission")
    assert "from" not in rule
