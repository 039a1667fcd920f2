"""Real processes for end-to-end runs: moto server, an API server, the operator.

Used by the e2e tests and by `make demo`. The API server is a real kube-apiserver + etcd when
KUBEBUILDER_ASSETS (or /usr/local/kubebuilder/bin) holds them, the envtest convention;
otherwise the project's own test API server (tests/apiserver/kubeapi.py).
"""

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import boto3
import kubernetes
import yaml

from tests.e2e.certs import serving_certificate

ROOT = Path(__file__).resolve().parents[2]
CRD_FILES = sorted((ROOT / "crds").glob("*.yaml"))
GROUP, VERSION, PLURAL = "ecs-scheduler.dev", "v1alpha1", "scheduledecsjobs"
RUN_PLURAL = "scheduledecsjobruns"
REGION = "us-east-1"
LOG_GROUP = "/ecs/e2e"
ACCOUNT = "123456789012"
"""moto's account for the default credentials."""
AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], T], *, timeout: float, interval: float = 0.1, what: str = "condition") -> T:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as error:  # the thing may not exist yet
            last_error = error
        time.sleep(interval)
    raise AssertionError(
        f"timed out after {timeout}s waiting for {what}"
        + (f" (last error: {last_error})" if last_error else "")
    )


class Process:
    """A child process with its output in a log file, stopped with SIGTERM (or SIGKILL)."""

    def __init__(
        self, name: str, args: list[str], *, env: dict[str, str] | None = None, workdir: Path
    ) -> None:
        self.name = name
        self.log_path = workdir / f"{name}.log"
        self._log = self.log_path.open("ab")
        self.popen = subprocess.Popen(
            args, stdout=self._log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}, cwd=ROOT,
            start_new_session=True,
        )  # fmt: skip

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout)
        self._log.close()

    def kill(self) -> None:
        self.stop(signal.SIGKILL)


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status < 500)
    except urllib.error.HTTPError as error:
        error.close()  # it holds the response's socket: left to the GC, it warns in a later test
        return error.code < 500


# -- AWS ---------------------------------------------------------------------------------


class MotoServer:
    """moto in server mode on 127.0.0.1, with an ECS cluster ready to run tasks."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._clients: dict[str, Any] = {}
        self.process = Process(
            "moto",
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            workdir=workdir,
        )
        wait_for(lambda: _http_ok(f"{self.url}/moto-api/"), timeout=30, what="moto server")

    def client(self, service: str, account: str | None = None) -> Any:
        """One client per service (and account), closed with the server (its pooled sockets would
        leak). Another account's client uses credentials moto issues for a role in that account."""
        key = f"{service}@{account}" if account else service
        if key not in self._clients:
            credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
            if account is not None:
                assumed = self.client("sts").assume_role(
                    RoleArn=f"arn:aws:iam::{account}:role/e2e-setup", RoleSessionName="e2e-setup"
                )["Credentials"]
                credentials = {"aws_access_key_id": assumed["AccessKeyId"],
                               "aws_secret_access_key": assumed["SecretAccessKey"],
                               "aws_session_token": assumed["SessionToken"]}  # fmt: skip
            self._clients[key] = boto3.client(
                service, endpoint_url=self.url, region_name=REGION, **credentials
            )
        return self._clients[key]

    def task_progression(self, describes_per_step: int) -> None:
        """Through moto's state manager: a task moves one state (RUNNING, DEACTIVATING,
        STOPPING, DEPROVISIONING, STOPPED) per this many DescribeTasks calls."""
        body = {
            "model_name": "ecs::task",
            "transition": {"progression": "manual", "times": describes_per_step},
        }
        request = urllib.request.Request(
            f"{self.url}/moto-api/state-manager/set-transition", data=json.dumps(body).encode(), method="POST"
        )
        urllib.request.urlopen(request, timeout=10).close()

    def prepare_ecs(self, cluster: str = "default", account: str = ACCOUNT) -> dict[str, Any]:
        """A cluster with container instances, task definitions and an awsvpc network."""
        other = None if account == ACCOUNT else account
        ecs, ec2 = self.client("ecs", other), self.client("ec2", other)
        ecs.create_cluster(clusterName=cluster)
        image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        for _ in range(2):
            instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="m5.large")[
                "Instances"
            ][0]
            document = {
                "instanceId": instance["InstanceId"], "region": REGION, "imageId": image, "instanceType": "m5.large",
                "availabilityZone": instance["Placement"]["AvailabilityZone"], "accountId": account,
                "privateIp": instance.get("PrivateIpAddress", "10.0.0.10"),
            }  # fmt: skip
            ecs.register_container_instance(cluster=cluster, instanceIdentityDocument=json.dumps(document))
        # Tiny reservations: moto tracks instance capacity and tasks stay RUNNING in it.
        for family, container in (
            ("sleeper-task", "sleeper"),
            ("env-task", "app"),
            ("consumer-task", "consumer"),
        ):
            ecs.register_task_definition(
                family=family,
                containerDefinitions=[
                    {"name": container, "image": "busybox", "memory": 4, "cpu": 0, "essential": True}
                ],
            )
        # Its container writes to CloudWatch Logs (awslogs, with a stream prefix).
        ecs.register_task_definition(
            family="logged-task",
            containerDefinitions=[{
                "name": "app", "image": "busybox", "memory": 4, "cpu": 0, "essential": True,
                "logConfiguration": {"logDriver": "awslogs", "options": {
                    "awslogs-group": LOG_GROUP, "awslogs-region": REGION, "awslogs-stream-prefix": "e2e"}},
            }],
        )  # fmt: skip
        ecs.register_task_definition(
            family="fargate-task", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
            containerDefinitions=[{"name": "app", "image": "busybox", "cpu": 256, "memory": 512, "essential": True}],
        )  # fmt: skip
        vpc = ec2.create_vpc(CidrBlock="10.10.0.0/16")["Vpc"]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.10.1.0/24")["Subnet"]["SubnetId"]
        group = ec2.create_security_group(GroupName="tasks", Description="tasks", VpcId=vpc)["GroupId"]
        return {"cluster": cluster, "subnet": subnet, "security_group": group}

    def stop(self) -> None:
        for client in self._clients.values():
            client.close()
        self.process.stop()


# -- Kubernetes --------------------------------------------------------------------------


def envtest_assets() -> Path | None:
    """The directory with kube-apiserver and etcd, if this machine has them."""
    for candidate in (os.environ.get("KUBEBUILDER_ASSETS"), "/usr/local/kubebuilder/bin"):
        if (
            candidate
            and (Path(candidate) / "kube-apiserver").exists()
            and (Path(candidate) / "etcd").exists()
        ):
            return Path(candidate)
    return None


def _kubeconfig(path: Path, server: str, token: str, ca_pem: bytes | None = None) -> None:
    cluster: dict[str, Any] = {"server": server}
    if ca_pem is not None:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1", "kind": "Config", "current-context": "e2e",
                "clusters": [{"name": "e2e", "cluster": cluster}],
                "users": [{"name": "e2e", "user": {"token": token}}],
                "contexts": [{"name": "e2e", "context": {"cluster": "e2e", "user": "e2e"}}],
            }
        )
    )  # fmt: skip


AUDIT_POLICY = {
    "apiVersion": "audit.k8s.io/v1",
    "kind": "Policy",
    # Requests once answered; a watch also when it starts (ResponseStarted), de-duplicated below.
    "omitStages": ["RequestReceived"],
    "rules": [{"level": "Metadata"}],
}


def _from_audit(event: dict[str, Any]) -> dict[str, Any] | None:
    """A kube-apiserver audit event in the shape of the test API server's request record."""
    ref = event.get("objectRef")
    if not ref:
        return None  # discovery and other non-resource requests
    return {
        "verb": event["verb"], "group": ref.get("apiGroup", ""), "resource": ref.get("resource"),
        "subresource": ref.get("subresource"), "namespace": ref.get("namespace"),
        "agent": event.get("userAgent", ""), "code": (event.get("responseStatus") or {}).get("code"),
        "user": (event.get("user") or {}).get("username"),
    }  # fmt: skip


class KubeCluster:
    """An API server with the CRD installed, and clients for it.

    `requests()` reads every request the server answered (verb, group, resource, subresource,
    namespace, User-Agent, response code): the test API server's record, or kube-apiserver's
    audit log."""

    def __init__(self, workdir: Path, *, record: bool = False, install_crd: bool = True) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.kubeconfig = workdir / "kubeconfig"
        self.record_path: Path | None = workdir / "api-requests.jsonl" if record else None
        self.processes: list[Process] = []
        self.ca_pem: bytes | None = None
        assets = envtest_assets()
        self.kind = "kube-apiserver" if assets else "test-apiserver"
        try:
            if assets:
                self._start_envtest(assets)
            else:
                self._start_test_server()
            configuration = kubernetes.client.Configuration()
            kubernetes.config.load_kube_config(str(self.kubeconfig), client_configuration=configuration)
            self.api_client = kubernetes.client.ApiClient(configuration)
        except BaseException:
            self._stop_processes()  # never leave an etcd or API server behind a failed start
            raise
        self.custom = kubernetes.client.CustomObjectsApi(self.api_client)
        self.core = kubernetes.client.CoreV1Api(self.api_client)
        self.extensions = kubernetes.client.ApiextensionsV1Api(self.api_client)
        self.rbac = kubernetes.client.RbacAuthorizationV1Api(self.api_client)
        if install_crd:
            try:
                self.install_crd()
            except BaseException:
                self.stop()
                raise

    @property
    def real(self) -> bool:
        """A real kube-apiserver: authentication, RBAC, CEL and admission are enforced."""
        return self.kind == "kube-apiserver"

    def _start_test_server(self) -> None:
        ready = self.workdir / "apiserver.port"
        args = [
            sys.executable,
            str(ROOT / "tests" / "apiserver" / "kubeapi.py"),
            "--port",
            "0",
            "--ready-file",
            str(ready),
        ]
        if self.record_path:
            args += ["--record", str(self.record_path)]
        self.processes.append(Process("apiserver", args, workdir=self.workdir))
        port = wait_for(lambda: ready.exists() and ready.read_text(), timeout=30, what="test API server")
        self.url = f"http://127.0.0.1:{port}"
        _kubeconfig(self.kubeconfig, self.url, "e2e")

    def _start_envtest(self, assets: Path) -> None:
        etcd_port, etcd_peer, api_port = free_port(), free_port(), free_port()
        data = Path(tempfile.mkdtemp(prefix="etcd-", dir=self.workdir))
        self.processes.append(
            Process(
                "etcd",
                [str(assets / "etcd"), "--data-dir", str(data), "--listen-client-urls", f"http://127.0.0.1:{etcd_port}",
                 "--advertise-client-urls", f"http://127.0.0.1:{etcd_port}",
                 "--listen-peer-urls", f"http://127.0.0.1:{etcd_peer}", "--unsafe-no-fsync"],
                workdir=self.workdir,
            )
        )  # fmt: skip
        certs = Path(tempfile.mkdtemp(prefix="certs-", dir=self.workdir))
        serving = serving_certificate(certs)
        self.ca_pem = serving.ca_pem
        key = certs / "sa.key"
        subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
        tokens = certs / "tokens.csv"
        tokens.write_text('e2e,e2e-admin,1,"system:masters"\n')
        audit_args = []
        if self.record_path:
            policy = certs / "audit-policy.yaml"
            policy.write_text(yaml.safe_dump(AUDIT_POLICY))
            self._audit_log = certs / "audit.jsonl"
            audit_args = [f"--audit-policy-file={policy}", f"--audit-log-path={self._audit_log}",
                          "--audit-log-format=json", "--audit-log-maxsize=0"]  # fmt: skip
        self.processes.append(
            Process(
                "kube-apiserver",
                [str(assets / "kube-apiserver"), f"--etcd-servers=http://127.0.0.1:{etcd_port}",
                 f"--secure-port={api_port}", "--bind-address=127.0.0.1",
                 f"--tls-cert-file={serving.cert_file}", f"--tls-private-key-file={serving.key_file}",
                 f"--token-auth-file={tokens}", "--authorization-mode=RBAC",
                 f"--service-account-key-file={key}", f"--service-account-signing-key-file={key}",
                 "--service-account-issuer=https://127.0.0.1", "--service-cluster-ip-range=10.0.0.0/24",
                 "--disable-admission-plugins=ServiceAccount", "--allow-privileged=true", *audit_args],
                workdir=self.workdir,
            )
        )  # fmt: skip
        self.url = f"https://127.0.0.1:{api_port}"
        _kubeconfig(self.kubeconfig, self.url, "e2e", self.ca_pem)
        wait_for(lambda: self._healthy(), timeout=90, what="kube-apiserver")

    def _healthy(self) -> bool:
        for process in self.processes:
            if not process.alive():
                raise AssertionError(f"{process.name} exited:\n{process.log()[-3000:]}")
        configuration = kubernetes.client.Configuration()
        kubernetes.config.load_kube_config(str(self.kubeconfig), client_configuration=configuration)
        with kubernetes.client.ApiClient(configuration) as client:
            kubernetes.client.CoreV1Api(client).list_namespace()
        return True

    def requests(self) -> Iterator[dict[str, Any]]:
        """Every request recorded so far (needs record=True)."""
        if self.record_path is None:
            return
        if not self.real:
            if self.record_path.exists():
                for line in self.record_path.read_text().splitlines():
                    yield json.loads(line)
            return
        seen: set[str] = set()
        if self._audit_log.exists():
            for line in self._audit_log.read_text().splitlines():
                event = json.loads(line)
                if event["auditID"] in seen:
                    continue
                seen.add(event["auditID"])
                if (entry := _from_audit(event)) is not None:
                    yield entry

    def service_account_kubeconfig(self, namespace: str, name: str, path: Path) -> Path:
        """A kubeconfig that acts as this ServiceAccount (which must exist on a real server), as a
        pod with the account mounted would. The test API server authenticates nobody."""
        token = "e2e"
        if self.real:
            request = {"spec": {"audiences": ["https://127.0.0.1"], "expirationSeconds": 3600}}
            created = self.core.create_namespaced_service_account_token(name, namespace, request)
            token = created.status.token
        _kubeconfig(path, self.url, token, self.ca_pem)
        return path

    def install_crd(self) -> None:
        for crd_file in CRD_FILES:
            self.extensions.create_custom_resource_definition(yaml.safe_load(crd_file.read_text()))
        for plural in (PLURAL, RUN_PLURAL):
            wait_for(lambda p=plural: self.custom.list_cluster_custom_object(GROUP, VERSION, p) is not None, timeout=30,
                     what=f"the {plural} CRD to be served")  # fmt: skip

    def apply(self, manifest: dict[str, Any]) -> None:
        """Create any built-in object from its manifest (RBAC, ServiceAccounts, ...)."""
        kubernetes.utils.create_from_dict(self.api_client, manifest)

    def create_namespace(self, name: str) -> str:
        self.core.create_namespace({"metadata": {"name": name}})
        return name

    # -- ScheduledEcsJob helpers ---------------------------------------------------------

    def apply_job(self, namespace: str, name: str, spec: dict[str, Any], **metadata: Any) -> dict[str, Any]:
        body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "ScheduledEcsJob",
                "metadata": {"name": name, **metadata}, "spec": spec}  # fmt: skip
        return dict(self.custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body))

    def create_run(self, namespace: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
        """A ScheduledEcsJobRun: a run on demand (or a backfill) of a job."""
        body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "ScheduledEcsJobRun", "metadata": {"name": name},
                "spec": spec}  # fmt: skip
        return dict(self.custom.create_namespaced_custom_object(GROUP, VERSION, namespace, RUN_PLURAL, body))

    def run(self, namespace: str, name: str) -> dict[str, Any]:
        return dict(self.custom.get_namespaced_custom_object(GROUP, VERSION, namespace, RUN_PLURAL, name))

    def run_exists(self, namespace: str, name: str) -> bool:
        items = self.custom.list_namespaced_custom_object(GROUP, VERSION, namespace, RUN_PLURAL)["items"]
        return any(item["metadata"]["name"] == name for item in items)

    def delete_run(self, namespace: str, name: str) -> None:
        self.custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, RUN_PLURAL, name)

    def lease(self, namespace: str, name: str) -> dict[str, Any]:
        api = kubernetes.client.CoordinationV1Api(self.custom.api_client)
        return dict(api.read_namespaced_lease(name, namespace, _preload_content=False).json())

    def annotate(self, namespace: str, name: str, annotations: dict[str, str]) -> None:
        body = {"metadata": {"annotations": annotations}}
        self.custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name, body)

    def patch_spec(self, namespace: str, name: str, spec: dict[str, Any]) -> None:
        self.custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name, {"spec": spec})

    def delete_job(self, namespace: str, name: str) -> None:
        self.custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)

    def job(self, namespace: str, name: str) -> dict[str, Any]:
        return dict(self.custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name))

    def status(self, namespace: str, name: str) -> dict[str, Any]:
        return dict(self.job(namespace, name).get("status") or {})

    def ready(self, namespace: str, name: str) -> dict[str, Any]:
        conditions = self.status(namespace, name).get("conditions") or []
        return next((c for c in conditions if c["type"] == "Ready"), {})

    def events(self, namespace: str, name: str) -> list[Any]:
        return [e for e in self.core.list_namespaced_event(namespace).items if e.involved_object.name == name]

    def stop(self) -> None:
        self.api_client.close()
        self._stop_processes()

    def _stop_processes(self) -> None:
        for process in reversed(self.processes):
            process.stop()


# -- The operator ------------------------------------------------------------------------


class Operator:
    """`ecs-scheduler run` as a child process."""

    def __init__(
        self,
        workdir: Path,
        kube: KubeCluster,
        aws_url: str,
        *args: str,
        name: str = "operator",
        kubeconfig: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.liveness_port = free_port()
        self.metrics_port = free_port()
        executable = shutil.which("ecs-scheduler", path=str(Path(sys.executable).parent)) or "ecs-scheduler"
        env = {
            **AWS_ENV,
            "KUBECONFIG": str(kubeconfig or kube.kubeconfig),
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.process = Process(
            name,
            [executable, "run", "--region", REGION, "--aws-endpoint-url", aws_url,
             "--liveness", f"http://127.0.0.1:{self.liveness_port}/healthz", "--log-level", "DEBUG",
             "--metrics-port", str(self.metrics_port), *args],
            env=env, workdir=workdir,
        )  # fmt: skip
        wait_for(lambda: self._live(), timeout=60, what=f"{name} liveness")

    def _live(self) -> bool:
        if not self.process.alive():
            raise AssertionError(f"operator exited:\n{self.process.log()[-3000:]}")
        return _http_ok(f"http://127.0.0.1:{self.liveness_port}/healthz")

    def stop(self) -> None:
        self.process.stop()

    def kill(self) -> None:
        self.process.kill()


@contextlib.contextmanager
def environment(workdir: Path, *, record: bool = False) -> Iterator[tuple[MotoServer, KubeCluster]]:
    moto = MotoServer(workdir)
    try:
        kube = KubeCluster(workdir, record=record)
        try:
            yield moto, kube
        finally:
            kube.stop()
    finally:
        moto.stop()
