"""Build the krew archive of `kubectl sej` (reproducibly) and write its manifest.

    python scripts/krew_manifest.py [--out dist]

The archive holds the launcher (plugins/krew/kubectl-sej); the manifest
(plugins/krew/sej.yaml) names the release download and the archive's sha256, so a rebuilt
archive checks against the committed manifest.
"""

import argparse
import hashlib
import io
import tomllib
import zipfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
LAUNCHER = ROOT / "plugins" / "krew" / "kubectl-sej"
MANIFEST = ROOT / "plugins" / "krew" / "sej.yaml"
RELEASES = "https://github.com/ecs-scheduler/ecs-scheduler/releases/download"


def version() -> str:
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"])


def archive() -> bytes:
    """The .zip, byte for byte the same on every build and machine: stored, not compressed (no
    zlib version can change it), with a fixed time and mode."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as bundle:
        info = zipfile.ZipInfo(LAUNCHER.name, date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = (0o100755 & 0xFFFF) << 16  # a regular, executable file
        info.create_system = 3  # Unix, so that the mode is read
        bundle.writestr(info, LAUNCHER.read_bytes())
    return buffer.getvalue()


def manifest(sha256: str) -> str:
    tag = f"v{version()}"
    plugin = {
        "apiVersion": "krew.googlecontainertools.github.com/v1alpha2",
        "kind": "Plugin",
        "metadata": {"name": "sej"},
        "spec": {
            "version": tag,
            "homepage": "https://github.com/ecs-scheduler/ecs-scheduler",
            "shortDescription": "Run, backfill, read logs of ScheduledEcsJobs",
            "description": "Runs an ecs-scheduler ScheduledEcsJob now with its own environment, backfills\n"
            "its missed instants, prints its tasks' CloudWatch Logs, its history and next\n"
            "instants, and suspends or resumes it, with your kubeconfig and AWS credentials.\n",
            "caveats": "Needs Python 3.11+ with the ecs-scheduler package: pip install ecs-scheduler\n",
            "platforms": [
                {
                    "selector": {
                        "matchExpressions": [{"key": "os", "operator": "In", "values": ["linux", "darwin"]}]
                    },
                    "uri": f"{RELEASES}/{tag}/kubectl-sej-{tag}.zip",
                    "sha256": sha256,
                    "files": [{"from": "kubectl-sej", "to": "."}],
                    "bin": "kubectl-sej",
                }
            ],
        },
    }
    return yaml.safe_dump(plugin, sort_keys=False, width=100)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    args = parser.parse_args()
    data = archive()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"kubectl-sej-v{version()}.zip").write_bytes(data)
    MANIFEST.write_text(manifest(hashlib.sha256(data).hexdigest()))


if __name__ == "__main__":
    main()
