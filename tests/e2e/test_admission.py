"""End-to-end admission: a bad job fails `kubectl apply` with the words its Ready condition would say.

The operator serves its validating webhook over HTTPS; a ValidatingWebhookConfiguration points the
API server at it (a `url` client config with the CA that signed the operator's certificate), scoped
to the test's namespace as the chart scopes it to `watchNamespaces`. On kube-apiserver this proves
the wiring; on the test API server the same calls go through its own webhook client.
"""

import base64
import itertools
import json
import ssl
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import kubernetes
import pytest

from ecs_scheduler.core.verdict import Judge
from ecs_scheduler.model.tenancy import TenantPolicy
from tests.e2e.awsproxy import AwsProxy
from tests.e2e.certs import serving_certificate
from tests.e2e.conftest import StartOperator
from tests.e2e.harness import ACCOUNT, REGION, KubeCluster, Operator, free_port, wait_for

pytestmark = pytest.mark.e2e

WEBHOOK_PATH = "/validate-scheduledecsjob"
_configurations = itertools.count(1)

POLICY = "namespaces:\n  '{namespace}':\n    clusters: [default]\n    taskDefinitionFamilies: [sleeper-*]\n"
GOOD = {"taskDefinition": "sleeper-task", "schedule": "0 3 * * *", "timeZone": "Europe/Berlin"}
BAD = [
    # (name, spec, the field the refusal names, what refuses it on kube-apiserver)
    ("no-parse", {**GOOD, "schedule": "every tuesday"}, "spec.schedule", "webhook"),
    ("unknown-zone", {**GOOD, "timeZone": "Mars/Olympus_Mons"}, "spec.timeZone", "webhook"),
    # CEL says this one without a call (the test API server has no CEL: there the webhook does).
    ("end-before-start", {**GOOD, "scheduleStart": "2030-01-02T00:00:00Z", "scheduleEnd": "2030-01-01T00:00:00Z"},
     "spec.scheduleEnd", "cel"),
    ("never-fires", {**GOOD, "schedule": "0 0 0 * * 30 2", "scheduleSyntax": "EcsScheduler"}, "spec.schedule",
     "webhook"),
    ("forbidden-family", {**GOOD, "taskDefinition": "payroll-task"}, "spec.taskDefinition", "webhook"),
    ("forbidden-cluster", {**GOOD, "cluster": "production"}, "spec.cluster", "webhook"),
]  # fmt: skip


class Webhook:
    """The operator's webhook as the API server knows it: a ValidatingWebhookConfiguration."""

    def __init__(self, kube: KubeCluster, ca_pem: bytes, port: int, namespace: str, policy: str) -> None:
        self.kube = kube
        self.name = f"e2e-ecs-scheduler-{next(_configurations)}"
        self.api = kubernetes.client.AdmissionregistrationV1Api(kube.api_client)
        self.body: dict[str, Any] = {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": self.name},
            "webhooks": [{
                "name": "validate.ecs-scheduler.dev",
                "admissionReviewVersions": ["v1"],
                "sideEffects": "None",
                "failurePolicy": policy,
                "timeoutSeconds": 5,
                "clientConfig": {"url": f"https://127.0.0.1:{port}{WEBHOOK_PATH}",
                                 "caBundle": base64.b64encode(ca_pem).decode()},
                "rules": [{"apiGroups": ["ecs-scheduler.dev"], "apiVersions": ["v1alpha1"],
                           "operations": ["CREATE", "UPDATE"], "resources": ["scheduledecsjobs"],
                           "scope": "Namespaced"}],
                "namespaceSelector": {"matchExpressions": [
                    {"key": "kubernetes.io/metadata.name", "operator": "In", "values": [namespace]}]},
            }],
        }  # fmt: skip
        self.api.create_validating_webhook_configuration(self.body)

    def set_failure_policy(self, policy: str) -> None:
        patch = [{"op": "replace", "path": "/webhooks/0/failurePolicy", "value": policy}]
        self.api.patch_validating_webhook_configuration(self.name, patch)

    def delete(self) -> None:
        self.api.delete_validating_webhook_configuration(self.name)


def refusal(apply: Callable[[], object]) -> kubernetes.client.ApiException:
    with pytest.raises(kubernetes.client.ApiException) as caught:
        apply()
    return caught.value


def message_of(error: kubernetes.client.ApiException) -> str:
    return str(json.loads(error.body).get("message", ""))


def webhook_ready(port: int, ca_pem: bytes) -> bool:
    context = ssl.create_default_context(cadata=ca_pem.decode())
    try:
        request = urllib.request.Request(f"https://127.0.0.1:{port}{WEBHOOK_PATH}", data=b"{}", method="POST")
        urllib.request.urlopen(request, context=context, timeout=2)
    except urllib.error.HTTPError:
        return True  # it answered (an empty review is a bad request)
    except OSError:
        return False
    return True


@pytest.fixture
def serving(workdir: Path, own_namespace: str) -> tuple[bytes, Path, Path]:
    directory = workdir / f"{own_namespace}-webhook-certs"
    directory.mkdir()
    certificate = serving_certificate(directory)
    return certificate.ca_pem, certificate.cert_file, certificate.key_file


@pytest.fixture
def webhook_operator(
    start_operator: StartOperator, serving: tuple[bytes, Path, Path], own_namespace: str, workdir: Path
) -> Iterator[tuple[Operator, int]]:
    ca_pem, cert, key = serving
    policy = workdir / f"{own_namespace}-tenants.yaml"
    policy.write_text(POLICY.format(namespace=own_namespace))
    port = free_port()
    running = start_operator("--admission-port", str(port), "--admission-address", "127.0.0.1",
                             "--admission-cert-file", str(cert), "--admission-key-file", str(key),
                             "--tenant-policy", str(policy))  # fmt: skip
    wait_for(lambda: webhook_ready(port, ca_pem), timeout=30, what="the admission webhook")
    yield running, port


@pytest.fixture
def webhook_factory(kube: KubeCluster) -> Iterator[Callable[..., Webhook]]:
    made: list[Webhook] = []

    def make(*args: Any) -> Webhook:
        made.append(Webhook(kube, *args))
        return made[-1]

    yield make
    for webhook in made:
        webhook.delete()


def offline_messages(specs: dict[str, dict[str, Any]], namespace: str, policy: Path) -> dict[str, str]:
    """What `ecs-scheduler validate` says of each spec, from its `file:doc: field: message` lines."""
    documents = [{"apiVersion": "ecs-scheduler.dev/v1alpha1", "kind": "ScheduledEcsJob",
                  "metadata": {"name": name, "namespace": namespace}, "spec": spec}
                 for name, spec in specs.items()]  # fmt: skip
    manifest = policy.parent / f"{namespace}-jobs.yaml"
    manifest.write_text("---\n".join(json.dumps(d) + "\n" for d in documents))
    # The operator's own settings, as a CI job would pass them: its region, its account (moto's), its policy.
    command = [sys.executable, "-m", "ecs_scheduler", "validate", "-f", str(manifest), "--tenant-policy", str(policy),
               "--region", REGION, "--account-id", ACCOUNT]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    messages = {}
    for line in result.stdout.splitlines():
        location, _, message = line.partition(": ")
        index = int(location.rsplit(":", 1)[1])
        messages[documents[index - 1]["metadata"]["name"]] = message
    return messages


def test_each_kind_of_bad_job_is_refused_at_apply_with_the_words_of_its_ready_condition(
    kube: KubeCluster,
    aws: AwsProxy,
    own_namespace: str,
    webhook_operator: tuple[Operator, int],
    serving: tuple[bytes, Path, Path],
    webhook_factory: Callable[..., Webhook],
    workdir: Path,
) -> None:
    namespace, (_, port) = own_namespace, webhook_operator
    webhook_factory(serving[0], port, namespace, "Fail")
    policy = TenantPolicy.model_validate({"namespaces": {namespace: {"clusters": ["default"],
                                                                     "taskDefinitionFamilies": ["sleeper-*"]}}})  # fmt: skip
    judge = Judge(policy=policy)
    offline = offline_messages({name: spec for name, spec, _, _ in BAD}, namespace,
                               workdir / f"{namespace}-tenants.yaml")  # fmt: skip
    for name, spec, field, by in BAD:
        error = refusal(lambda n=name, s=spec: kube.apply_job(namespace, n, s))
        verdict = judge(spec, namespace=namespace, name=name, now=datetime.now(UTC))
        assert verdict.error is not None and verdict.error.field == field, (name, verdict)
        if by == "cel" and kube.real:
            expected = (f'ScheduledEcsJob.ecs-scheduler.dev "{name}" is invalid: {field}: Invalid value: '
                        f"{verdict.error.message}")  # fmt: skip
        else:
            expected = f'admission webhook "validate.ecs-scheduler.dev" denied the request: {verdict.message}'
        assert message_of(error) == expected, name
        assert error.status == (403 if verdict.reason == "Forbidden" else 422), name
        assert offline[name] == verdict.message, f"ecs-scheduler validate disagrees on {name}"
    assert kube.custom.list_namespaced_custom_object("ecs-scheduler.dev", "v1alpha1", namespace,
                                                     "scheduledecsjobs")["items"] == []  # fmt: skip

    # A good job is accepted and scheduled; a change that breaks it is refused and changes nothing.
    kube.apply_job(namespace, "good", GOOD)
    wait_for(lambda: kube.ready(namespace, "good").get("status") == "True", timeout=15, what="good Ready")
    error = refusal(lambda: kube.patch_spec(namespace, "good", {"timeZone": "Europe/Berlim"}))
    assert "spec.timeZone" in message_of(error)
    assert kube.job(namespace, "good")["spec"]["timeZone"] == "Europe/Berlin"


def test_a_job_stored_before_the_webhook_can_still_be_labelled_and_deleted(
    kube: KubeCluster,
    own_namespace: str,
    webhook_operator: tuple[Operator, int],
    serving: tuple[bytes, Path, Path],
    webhook_factory: Callable[..., Webhook],
) -> None:
    """A spec the webhook would refuse, stored before it existed, keeps its Ready=False path and
    may still be annotated (run-now, Argo CD's tracking) and deleted: only spec changes are judged."""
    namespace, (_, port) = own_namespace, webhook_operator
    kube.apply_job(namespace, "old", {**GOOD, "timeZone": "Mars/Olympus_Mons"})
    wait_for(
        lambda: kube.ready(namespace, "old").get("reason") == "InvalidSpec", timeout=15, what="InvalidSpec"
    )
    webhook_factory(serving[0], port, namespace, "Fail")
    kube.annotate(
        namespace, "old", {"argocd.argoproj.io/tracking-id": "app:ecs-scheduler.dev/ScheduledEcsJob"}
    )
    error = refusal(lambda: kube.patch_spec(namespace, "old", {"schedule": "0 4 * * *"}))
    assert "spec.timeZone" in message_of(error), "changing the spec must fix it"
    kube.patch_spec(namespace, "old", {"timeZone": "Europe/Berlin"})
    wait_for(lambda: kube.ready(namespace, "old").get("status") == "True", timeout=15, what="fixed")
    kube.delete_job(namespace, "old")


def test_with_the_operator_down_fail_refuses_every_apply_and_ignore_lets_bad_specs_reach_ready_false(
    kube: KubeCluster,
    own_namespace: str,
    start_operator: StartOperator,
    serving: tuple[bytes, Path, Path],
    webhook_factory: Callable[..., Webhook],
    workdir: Path,
) -> None:
    namespace, port = own_namespace, free_port()  # nothing listens there: the operator is down
    webhook = webhook_factory(serving[0], port, namespace, "Fail")
    error = refusal(lambda: kube.apply_job(namespace, "good", GOOD))
    assert error.status == 500 and "failed calling webhook" in message_of(error), message_of(error)

    webhook.set_failure_policy("Ignore")
    # The API server may use the configuration it read before the change for a moment.
    wait_for(lambda: _accepted(kube, namespace, "bad", {**GOOD, "schedule": "every tuesday"}),
             timeout=15, what="Ignore to take effect")  # fmt: skip
    kube.apply_job(namespace, "good", GOOD)
    start_operator()  # back up (no webhook needed): what got through gets today's Ready=False
    ready = wait_for(lambda: kube.ready(namespace, "bad").get("reason") == "InvalidSpec" and kube.ready(namespace, "bad"),
                     timeout=20, what="bad InvalidSpec")  # fmt: skip
    assert ready["message"].startswith("spec.schedule: ")
    wait_for(lambda: kube.ready(namespace, "good").get("status") == "True", timeout=15, what="good Ready")


def _accepted(kube: KubeCluster, namespace: str, name: str, spec: dict[str, Any]) -> bool:
    try:
        kube.apply_job(namespace, name, spec)
    except kubernetes.client.ApiException as error:
        if error.status == 500:
            return False
        raise
    return True


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"watchNamespaces": ["team-a", "!team-a-legacy"]},
        {"admission": {"certificate": {"source": "cert-manager"}}},
    ],
    ids=["helm certificate", "named namespaces", "cert-manager"],
)
def test_the_charts_webhook_objects_are_accepted_by_the_api_server(
    kube: KubeCluster, own_namespace: str, values: dict[str, Any]
) -> None:
    """Server-side dry run of what the chart renders for the webhook (cert-manager's own kinds
    excepted: no cert-manager here): the real API server validates every field of them."""
    import helm_python as helm
    import yaml

    chart = helm.Chart.load(str(Path(__file__).resolve().parents[2] / "helm" / "ecs-scheduler"))
    rendered = chart.render(values, name="ops", namespace=own_namespace, is_install=True)
    documents = [
        d for path, text in rendered.items() if path.endswith(".yaml") for d in yaml.safe_load_all(text) if d
    ]
    wanted = [d for d in documents if d["kind"] in ("Secret", "Service", "ValidatingWebhookConfiguration")
              and "admission" in d["metadata"]["name"] + json.dumps(d.get("webhooks", ""))]  # fmt: skip
    assert {d["kind"] for d in wanted} >= {"Service", "ValidatingWebhookConfiguration"}
    admission_api = kubernetes.client.AdmissionregistrationV1Api(kube.api_client)
    for document in wanted:
        if document["kind"] == "Secret":
            kube.core.create_namespaced_secret(own_namespace, document, dry_run="All")
        elif document["kind"] == "Service":
            kube.core.create_namespaced_service(own_namespace, document, dry_run="All")
        else:
            admission_api.create_validating_webhook_configuration(document, dry_run="All")
    names = [c.metadata.name for c in admission_api.list_validating_webhook_configuration().items]
    assert not any(name.startswith("ops-") for name in names), "a dry run stores nothing"


def _admission_review(manifest: dict[str, Any]) -> bytes:
    meta = manifest["metadata"]
    return json.dumps({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {"uid": meta["name"], "kind": {"group": "ecs-scheduler.dev", "version": "v1alpha1",
                                                    "kind": "ScheduledEcsJob"},
                    "resource": {"group": "ecs-scheduler.dev", "version": "v1alpha1", "resource": "scheduledecsjobs"},
                    "name": meta["name"], "namespace": meta["namespace"], "operation": "CREATE",
                    "userInfo": {"username": "e2e"}, "object": manifest, "oldObject": None, "dryRun": False},
    }).encode()  # fmt: skip


def test_validate_and_the_webhook_agree_on_every_hostile_spec(
    own_namespace: str,
    webhook_operator: tuple[Operator, int],
    serving: tuple[bytes, Path, Path],
    workdir: Path,
) -> None:
    """The hostile corpus (hundreds of good and bad specs) through `ecs-scheduler validate` and
    through the running webhook's HTTPS endpoint: the same verdict and the same words for each."""
    from tests.hostile import CASES

    namespace, (_, port), ca_pem = own_namespace, webhook_operator, serving[0]
    specs = {f"case-{index}": case.spec() for index, case in enumerate(CASES)}
    offline = offline_messages(specs, namespace, workdir / f"{namespace}-tenants.yaml")
    context = ssl.create_default_context(cadata=ca_pem.decode())
    refused = 0
    for name, spec in specs.items():
        manifest = {"apiVersion": "ecs-scheduler.dev/v1alpha1", "kind": "ScheduledEcsJob",
                    "metadata": {"name": name, "namespace": namespace}, "spec": spec}  # fmt: skip
        request = urllib.request.Request(f"https://127.0.0.1:{port}{WEBHOOK_PATH}", data=_admission_review(manifest),
                                         headers={"Content-Type": "application/json"}, method="POST")  # fmt: skip
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            answer = json.load(response)["response"]
        said = None if answer["allowed"] else answer["status"]["message"]
        assert said == offline.get(name), (name, spec)
        refused += said is not None
    assert len(specs) >= 40 and 0 < refused < len(specs)


def test_the_standby_replica_serves_the_webhook_too(
    kube: KubeCluster, own_namespace: str, start_operator: StartOperator, serving: tuple[bytes, Path, Path]
) -> None:
    """With leader election only the leader schedules, but every replica answers the API server
    (the Service sends calls to any ready pod), with the same verdict."""
    ca_pem, cert, key = serving
    ports = {}
    for identity in ("replica-a", "replica-b"):
        ports[identity] = free_port()
        start_operator("--leader-election", f"{own_namespace}/ecs-scheduler", "--identity", identity,
                       "--admission-port", str(ports[identity]), "--admission-address", "127.0.0.1",
                       "--admission-cert-file", str(cert), "--admission-key-file", str(key))  # fmt: skip
    leader = wait_for(lambda: kube.lease(own_namespace, "ecs-scheduler")["spec"].get("holderIdentity"), timeout=30,
                      what="a leader")  # fmt: skip
    (standby,) = [identity for identity in ports if identity != leader]
    wait_for(lambda: webhook_ready(ports[standby], ca_pem), timeout=30, what="the standby's webhook")
    context = ssl.create_default_context(cadata=ca_pem.decode())
    for spec, allowed in ((GOOD, True), ({**GOOD, "timeZone": "Europe/Berlim"}, False)):
        manifest = {"apiVersion": "ecs-scheduler.dev/v1alpha1", "kind": "ScheduledEcsJob",
                    "metadata": {"name": "job", "namespace": own_namespace}, "spec": spec}  # fmt: skip
        request = urllib.request.Request(f"https://127.0.0.1:{ports[standby]}{WEBHOOK_PATH}",
                                         data=_admission_review(manifest),
                                         headers={"Content-Type": "application/json"}, method="POST")  # fmt: skip
        with urllib.request.urlopen(request, context=context, timeout=10) as response:
            answer = json.load(response)["response"]
        assert answer["allowed"] is allowed
        if not allowed:
            assert answer["status"]["message"].startswith("spec.timeZone: unknown time zone 'Europe/Berlim'")
