"""The krew manifest names the archive the release publishes: rebuilt here, its sha256 matches."""

import hashlib
import subprocess
import sys
import zipfile
from io import BytesIO
from pathlib import Path

import yaml
from scripts.krew_manifest import MANIFEST, archive, manifest, version

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_manifest_is_what_the_archive_gives() -> None:
    assert MANIFEST.read_text() == manifest(hashlib.sha256(archive()).hexdigest()), (
        "run `python scripts/krew_manifest.py` after changing the launcher or the version"
    )


def test_the_manifest_has_what_krew_needs() -> None:
    plugin = yaml.safe_load(MANIFEST.read_text())
    assert (plugin["apiVersion"], plugin["kind"], plugin["metadata"]["name"]) == (
        "krew.googlecontainertools.github.com/v1alpha2", "Plugin", "sej",
    )  # fmt: skip
    spec = plugin["spec"]
    assert spec["version"] == f"v{version()}" and len(spec["shortDescription"]) <= 50
    (platform,) = spec["platforms"]
    assert platform["bin"] == "kubectl-sej" and platform["uri"].endswith(
        f"/v{version()}/kubectl-sej-v{version()}.zip"
    )
    names = zipfile.ZipFile(BytesIO(archive())).namelist()
    assert [entry["from"] for entry in platform["files"]] == names == ["kubectl-sej"]


def test_the_launcher_runs_the_plugin(tmp_path: Path) -> None:
    zipfile.ZipFile(BytesIO(archive())).extractall(tmp_path)
    launcher = tmp_path / "kubectl-sej"
    launcher.chmod(0o755)
    result = subprocess.run([str(launcher), "--help"], env={"ECS_SCHEDULER_PYTHON": sys.executable},
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "backfill" in result.stdout and "Exit codes" in result.stdout
