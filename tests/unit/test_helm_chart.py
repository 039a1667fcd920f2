"""The Helm chart, rendered and strictly linted by Helm's own Go library (helm-python-sdk), every
object validated against Kubernetes 1.25 through the newest schemas kubernetes-validate has."""

import json
import re
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

from ecs_scheduler.model.config import OperatorConfig, RateLimit, parse_rate_limits
from ecs_scheduler.runtime.metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "ecs-scheduler"
NAMESPACE = "ecs-system"
KUBERNETES_VERSIONS = [
    f"1.{minor}.0" for minor in range(25, int(kubernetes_validate.latest_version().split(".")[1]) + 1)
]
NOT_BUILT_IN = {"ServiceMonitor", "Certificate", "Issuer"}  # Prometheus Operator's and cert-manager's CRDs

VARIANTS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "named namespaces": {"watchNamespaces": ["team-a", "team-b"]},
    "namespace patterns": {"watchNamespaces": ["team-*", "!team-legacy"]},
    "everything on": {
        "serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/ecs-scheduler"}},
        "metrics": {"serviceMonitor": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}}},
        "networkPolicy": {"enabled": True, "metricsFrom": [{"namespaceSelector": {"matchLabels": {"name": "monitoring"}}}]},
        "grafanaDashboard": {"enabled": True},
        "aws": {"region": "eu-west-1", "cluster": "batch"},
        "operator": {"extraEnv": [{"name": "TZ", "value": "UTC"}],
                     "ecsRateLimits": {"RunTask": "20/50", "DescribeTasks": "10"}},
        "priorityClassName": "system-cluster-critical",
        "taskEvents": {"queueUrl": "https://sqs.eu-west-1.amazonaws.com/123456789012/ecs-scheduler-task-events"},
        "notifications": {"webhooks": {"enabled": True, "internalHosts": ["hooks.ci.svc"]}},
    },
    "single replica": {"replicaCount": 1, "leaderElection": {"enabled": False}},
    "cert-manager": {"admission": {"failurePolicy": "Ignore", "certificate": {"source": "cert-manager",
                                   "issuerRef": {"name": "cluster-ca", "kind": "ClusterIssuer"}}}},
    "no admission webhook": {"admission": {"enabled": False}},
    "tenant guard": {"tenants": {"team-a": {"clusters": ["batch"], "taskDefinitionFamilies": ["team-a-*"]},
                                 "*": {"clusters": ["default"]}}},
}  # fmt: skip


def render(values: dict[str, Any]) -> dict[str, str]:
    chart = helm.Chart.load(str(CHART))
    return chart.render(values, name="ops", namespace=NAMESPACE, is_install=True)


def objects(values: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for path, text in render(values).items():
        if path.endswith(".yaml"):
            found += [doc for doc in yaml.safe_load_all(text) if doc]
    return found


def of_kind(values: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects(values) if o["kind"] == kind]


def test_chart_crds_are_exactly_the_generated_crds() -> None:
    generated = sorted((ROOT / "crds").glob("*.yaml"))
    assert len(generated) == 2
    for crd in generated:
        assert (CHART / "crds" / crd.name).read_text() == crd.read_text()
    assert sorted(p.name for p in (CHART / "crds").iterdir()) == [crd.name for crd in generated]


@pytest.mark.parametrize("variant", VARIANTS)
def test_strict_lint(variant: str) -> None:
    report = helm.lint(str(CHART), VARIANTS[variant], strict=True, namespace=NAMESPACE)
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_is_valid_kubernetes(variant: str, version: str) -> None:
    for manifest in objects(VARIANTS[variant]):
        if manifest["kind"] not in NOT_BUILT_IN:
            kubernetes_validate.validate(manifest, version, strict=True)


def test_service_monitor_scrapes_the_metrics_port() -> None:
    (monitor,) = of_kind(VARIANTS["everything on"], "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"
    (service,) = [
        s for s in of_kind(VARIANTS["everything on"], "Service") if s["metadata"]["name"].endswith("-metrics")
    ]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()


def test_pod_meets_the_restricted_pod_security_standard() -> None:
    (deployment,) = of_kind({}, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert not pod.get("hostNetwork") and not pod.get("hostPID") and not pod.get("hostIPC")
    assert all("hostPath" not in v for v in pod.get("volumes", []))
    for container in pod["containers"]:
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["readOnlyRootFilesystem"] is True
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert context["runAsNonRoot"] is True
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["port"] == "probes"
        assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
    assert deployment["spec"]["replicas"] == 2
    assert pod["topologySpreadConstraints"][0]["labelSelector"]["matchLabels"]


def test_aws_credentials_come_only_from_the_service_account() -> None:
    values = VARIANTS["everything on"]
    (account,) = of_kind(values, "ServiceAccount")
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].endswith(":role/ecs-scheduler")
    (deployment,) = of_kind(values, "Deployment")
    env = {e["name"] for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert not env & {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}


def for_people(role: dict[str, Any]) -> bool:
    """A role the chart offers people to bind (not the operator's own)."""
    return bool(role["metadata"].get("labels", {}).get("ecs-scheduler.dev/role-for") == "people")


def rules(values: dict[str, Any]) -> dict[tuple[str, str | None], list[dict[str, Any]]]:
    """The operator's own rules, by role kind and namespace."""
    found: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
    for role in objects(values):
        if role["kind"] in ("ClusterRole", "Role") and not for_people(role):
            found.setdefault((role["kind"], role["metadata"].get("namespace")), []).extend(role["rules"])
    return found


def test_rbac_follows_watch_namespaces() -> None:
    everywhere = rules({})
    assert set(everywhere) == {("ClusterRole", None), ("Role", NAMESPACE)}, "the Role is for the Lease"
    named = rules(VARIANTS["named namespaces"])
    # Plain names: a Role per namespace and nothing cluster-wide (no CRD watch, no namespace list).
    assert set(named) == {("Role", "team-a"), ("Role", "team-b"), ("Role", NAMESPACE)}
    assert not of_kind(VARIANTS["named namespaces"], "ClusterRoleBinding")
    patterns = rules(VARIANTS["namespace patterns"])
    assert any(r["resources"] == ["namespaces"] for r in patterns[("ClusterRole", None)])
    assert not any(r["resources"] == ["namespaces"] for r in everywhere[("ClusterRole", None)])
    for found in (everywhere, named, patterns):
        for role_rules in found.values():
            for rule in role_rules:
                assert (
                    "*" not in rule["verbs"] and "*" not in rule["resources"] and "*" not in rule["apiGroups"]
                )


def test_leader_election_is_wired_to_one_lease() -> None:
    (deployment,) = of_kind({}, "Deployment")
    env = {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["ECS_SCHEDULER_LEADER_ELECTION"]["value"] == f"{NAMESPACE}/ops-ecs-scheduler"
    assert env["ECS_SCHEDULER_IDENTITY"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    lease_rules = rules({})[("Role", NAMESPACE)]
    assert {"resources": ["leases"], "apiGroups": ["coordination.k8s.io"], "resourceNames": ["ops-ecs-scheduler"],
            "verbs": ["get", "update"]} in lease_rules  # fmt: skip
    single = of_kind(VARIANTS["single replica"], "Deployment")[0]
    assert "ECS_SCHEDULER_LEADER_ELECTION" not in {
        e["name"] for e in single["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert of_kind(VARIANTS["single replica"], "PodDisruptionBudget") == []


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"replicaCount": "two"}, "replicaCount"),
        ({"replicaCount": 0}, "replicaCount"),
        ({"watchNamespaces": "team-a"}, "watchNamespaces"),
        ({"image": {"pullPolicy": "Sometimes"}}, "pullPolicy"),
        ({"metrics": {"port": 70000}}, "port"),
        ({"leaderElection": {"enabled": "yes"}}, "enabled"),
        ({"operator": {"logFormat": "xml"}}, "logFormat"),
        ({"unknownKey": 1}, "unknownKey"),
        ({"operator": {"ecsRateLimits": {"RunTasks": "20/50"}}}, "RunTasks"),
        ({"operator": {"ecsRateLimits": {"RunTask": "fast"}}}, "fast"),
        ({"taskEvents": {"queueUrl": "my-queue"}}, "queueUrl"),
        ({"notifications": {"webhooks": {"enabled": "yes"}}}, "enabled"),
    ],
)
def test_values_schema_rejects_wrong_values(values: dict[str, Any], complaint: str) -> None:
    with pytest.raises(helm.HelmError) as caught:
        render(values)
    assert complaint in str(caught.value)


def test_notes_tell_the_user_how_to_apply_a_first_job() -> None:
    notes = render({})["ecs-scheduler/templates/NOTES.txt"]
    assert "kubectl apply -f -" in notes and "kind: ScheduledEcsJob" in notes
    assert "eks.amazonaws.com/role-arn" in notes
    assert (
        "eks.amazonaws.com/role-arn"
        not in render(VARIANTS["everything on"])["ecs-scheduler/templates/NOTES.txt"]
    )


def exported_series() -> set[str]:
    names = set()
    for family in Metrics().registry.collect():
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"], "gauge": [""]}
        names.update(family.name + suffix for suffix in suffixes[family.type])
    return names


def test_every_dashboard_query_uses_metrics_the_operator_exports() -> None:
    (config_map,) = of_kind(VARIANTS["everything on"], "ConfigMap")
    assert config_map["metadata"]["name"].endswith("-dashboard")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    dashboard = json.loads(config_map["data"]["ecs-scheduler.json"])
    queries = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    assert len(queries) >= 10
    exported = exported_series()
    for query in queries:
        used = set(re.findall(r"ecs_scheduler_[a-z_]+", query))
        assert used and used <= exported, (query, used - exported)


def test_argocd_values_snippet_carries_the_tested_health_check() -> None:
    snippet = yaml.safe_load((ROOT / "docs" / "argocd-values.yaml").read_text())
    lua = snippet["configs"]["cm"]["resource.customizations.health.ecs-scheduler.dev_ScheduledEcsJob"]
    assert lua == (ROOT / "docs" / "argocd-health.lua").read_text()


def test_tenant_policy_is_mounted_and_reads_as_the_operator_reads_it() -> None:
    from ecs_scheduler.model.tenancy import TenantPolicy

    values = VARIANTS["tenant guard"]
    (config_map,) = of_kind(values, "ConfigMap")
    policy = TenantPolicy.model_validate(yaml.safe_load(config_map["data"]["tenants.yaml"]))
    assert policy.namespaces["team-a"].clusters == ["batch"]
    (deployment,) = of_kind(values, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in pod["containers"][0]["env"]}
    mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "tenants")
    assert env["ECS_SCHEDULER_TENANT_POLICY"] == mount["mountPath"] + "/tenants.yaml"
    assert "checksum/tenants" in deployment["spec"]["template"]["metadata"]["annotations"]
    with pytest.raises(helm.HelmError):
        render({"tenants": {"team-a": {"clusterz": ["x"]}}})


@pytest.mark.parametrize(
    "namespaces",
    [[], ["team-a"], ["team-a", "team-b"], ["team-*"], ["team-?"], ["team-[ab]"], ["team-a", "!team-b"]],
    ids=str,
)
def test_chart_and_operator_agree_on_plain_names(namespaces: list[str]) -> None:
    """Cluster-wide RBAC exactly when the operator scans (kopf lists CRDs, and namespaces for
    patterns); Roles per namespace exactly when it does not."""
    cluster_wide = any(not for_people(r) for r in of_kind({"watchNamespaces": namespaces}, "ClusterRole"))
    assert cluster_wide is not OperatorConfig(namespaces=tuple(namespaces)).namespaces_are_names


def test_ecs_rate_limits_reach_the_operator_as_it_parses_them() -> None:
    (deployment,) = of_kind(VARIANTS["everything on"], "Deployment")
    env = {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    limits = parse_rate_limits(env["ECS_SCHEDULER_ECS_RATE_LIMITS"].split(","))
    assert limits["RunTask"] == RateLimit(20, 50) and limits["DescribeTasks"] == RateLimit(10, 10)
    (default,) = of_kind({}, "Deployment")
    assert "ECS_SCHEDULER_ECS_RATE_LIMITS" not in {
        e["name"] for e in default["spec"]["template"]["spec"]["containers"][0]["env"]
    }


def container_env(values: dict[str, Any]) -> dict[str, Any]:
    (deployment,) = of_kind(values, "Deployment")
    return {e["name"]: e.get("value") for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}


def test_task_events_and_webhooks_reach_the_operator_and_secrets_are_read_only_with_webhooks() -> None:
    env = container_env(VARIANTS["everything on"])
    assert env["ECS_SCHEDULER_TASK_EVENTS_QUEUE"].endswith("/ecs-scheduler-task-events")
    assert (env["ECS_SCHEDULER_TASK_EVENTS_SWEEP"], env["ECS_SCHEDULER_TASK_EVENTS_GRACE"]) == ("300", "60")
    assert env["ECS_SCHEDULER_WEBHOOK_INTERNAL_HOSTS"] == "hooks.ci.svc"
    assert "ECS_SCHEDULER_TASK_EVENTS_QUEUE" not in container_env({})

    def secret_rules(values: dict[str, Any]) -> list[dict[str, Any]]:
        return [r for found in rules(values).values() for r in found if "secrets" in r["resources"]]

    assert secret_rules({}) == [] and secret_rules(VARIANTS["named namespaces"]) == []
    (granted,) = secret_rules(VARIANTS["everything on"])
    assert granted["verbs"] == ["get"]
    named = secret_rules({**VARIANTS["named namespaces"], "notifications": {"webhooks": {"enabled": True}}})
    assert len(named) == 2, "one per watched namespace, nothing cluster-wide"


def test_people_get_a_role_that_starts_runs_without_changing_jobs_and_one_that_reads() -> None:
    roles = {r["metadata"]["name"].rsplit("-", 1)[-1]: r for r in of_kind({}, "ClusterRole") if for_people(r)}
    assert set(roles) == {"runner", "viewer"}

    def allowed(role: str) -> set[tuple[str, str]]:
        return {
            (res, verb)
            for rule in roles[role]["rules"]
            for res in rule["resources"]
            for verb in rule["verbs"]
        }

    assert ("scheduledecsjobruns", "create") in allowed("runner")
    assert not {verb for res, verb in allowed("runner") if res == "scheduledecsjobs"} - {
        "get",
        "list",
        "watch",
    }
    assert {verb for _, verb in allowed("viewer")} == {"get", "list", "watch"}
    labels = roles["runner"]["metadata"]["labels"]
    assert labels["rbac.authorization.k8s.io/aggregate-to-edit"] == "true"
    assert not any(for_people(r) for r in of_kind({"userRoles": {"enabled": False}}, "ClusterRole"))
