"""Build the project's Dockerfile and run the image, with Debian's buildah, podman and runc.

No Docker engine is needed: buildah builds the Dockerfile unchanged, podman runs the image.
Where no registry is reachable, `python:3.11-slim` is stood in for by a Debian bookworm rootfs
made with mmdebstrap, with `python3 -m venv /usr/local` so that `python` and `pip` sit in
/usr/local/bin as in the official image. An image of that name already in the store (the real
one, pulled on a machine that can) is used as it is.
"""

import contextlib
import os
import resource
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BASE_IMAGE = "docker.io/library/python:3.11-slim"
TOOLS = ("buildah", "podman", "runc", "mmdebstrap")


def missing_tools() -> list[str]:
    """What this machine lacks to build and run the image (empty: it can)."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if os.geteuid() != 0:
        missing.append("root (rootless podman needs subuid ranges set up)")
    return missing


def containers_conf(directory: Path) -> Path:
    """A containers.conf for podman and buildah on a machine like CI's.

    runc rather than crun (crun refuses hybrid cgroup layouts); cgroupfs (no systemd); and
    ulimits within this machine's hard limits: podman asks for far more by default, which a
    sandboxed host refuses with EPERM (here even nproc above about 60,000), and an operator
    needs far fewer.
    """
    nofile = min(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 65536)
    nproc = min(resource.getrlimit(resource.RLIMIT_NPROC)[1], 32768)
    path = directory / "containers.conf"
    path.write_text(
        "[containers]\n"
        f'default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]\n'
        "[engine]\n"
        'runtime = "runc"\n'
        'cgroup_manager = "cgroupfs"\n'
        'events_logger = "file"\n'
    )
    return path


class Images:
    """buildah and podman with one configuration."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.env = {**os.environ, "CONTAINERS_CONF": str(containers_conf(workdir))}

    def run(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(args, env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stderr[-4000:]}")
        return result

    def exists(self, image: str) -> bool:
        return self.run("podman", "image", "exists", image, check=False).returncode == 0

    def ensure_base(self) -> None:
        """python:3.11-slim, or a Debian stand-in for it made with mmdebstrap."""
        if self.exists(BASE_IMAGE):
            return
        with tempfile.TemporaryDirectory(dir=self.workdir) as scratch:
            rootfs = Path(scratch) / "rootfs.tar"
            self.run(
                "mmdebstrap", "--quiet", "--variant=minbase", "--include=python3,python3-venv,ca-certificates",
                "--customize-hook=chroot \"$1\" python3 -m venv /usr/local", "bookworm", str(rootfs),
            )  # fmt: skip
            self.run("podman", "import", "--change", "CMD=python3", str(rootfs), BASE_IMAGE)

    def build(self, tag: str) -> None:
        """The Dockerfile, unchanged. The package index is reached as this machine reaches it:
        its pip configuration and CA bundle are mounted into the build."""
        self.ensure_base()
        mounts: list[str] = []
        for source, target in _pip_settings():
            mounts += ["-v", f"{source}:{target}:ro"]
        self.run(
            "buildah", "bud", "--isolation", "chroot", "--network", "host", "--pull=never", "--layers",
            *mounts, "-t", tag, str(ROOT),
        )  # fmt: skip

    @contextlib.contextmanager
    def container(
        self, image: str, name: str, *args: str, env: dict[str, str], mounts: dict[Path, str]
    ) -> Iterator["Container"]:
        """Run `image` detached as a numeric user with no passwd entry (as Kubernetes runs it
        under the restricted Pod Security Standard), on the host network, read-only."""
        options = ["--name", name, "--read-only", "--user", "65532:65532", "--passwd=false", "--network", "host",
                   "--env-host=false"]  # fmt: skip
        for key, value in env.items():
            options += ["-e", f"{key}={value}"]
        for source, target in mounts.items():
            options += ["-v", f"{source}:{target}:ro"]
        self.run("podman", "rm", "--force", name, check=False)
        self.run("podman", "run", "--detach", *options, image, *args)
        running = Container(self, name)
        try:
            yield running
        finally:
            running.stop()


class Container:
    def __init__(self, images: Images, name: str) -> None:
        self.images = images
        self.name = name

    def logs(self) -> str:
        result = self.images.run("podman", "logs", self.name, check=False)
        return result.stdout + result.stderr

    def running(self) -> bool:
        result = self.images.run(
            "podman", "inspect", "--format", "{{.State.Running}}", self.name, check=False
        )
        return result.stdout.strip() == "true"

    def stop(self) -> None:
        self.images.run("podman", "stop", "--time", "5", self.name, check=False)
        self.images.run("podman", "rm", "--force", self.name, check=False)


def _pip_settings() -> list[tuple[str, str]]:
    """(host file, path in the build) for pip's configuration and the CA bundle it names."""
    found: list[tuple[str, str]] = []
    candidates = [os.environ.get("PIP_CONFIG_FILE"), "/etc/pip.conf", "/etc/xdg/pip/pip.conf",
                  str(Path.home() / ".config/pip/pip.conf"), str(Path.home() / ".pip/pip.conf")]  # fmt: skip
    config = next((c for c in candidates if c and Path(c).is_file()), None)
    if config:
        found.append((config, "/etc/pip.conf"))
    bundles = {os.environ.get(v) for v in ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")}
    found += [(bundle, bundle) for bundle in sorted(b for b in bundles if b and Path(b).is_file())]
    return found
