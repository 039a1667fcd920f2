"""`make lock`: pin the operator's runtime dependencies in requirements.lock.

pyproject.toml keeps ranges (what the code supports); the lock pins one resolved set, which the
Dockerfile installs and `make install` uses as constraints, so the image built later is the one
tested now. pip's own resolver does the work (`pip install --dry-run --report`), for the Python
and platform this runs on: CPython 3.11 on Linux, as in the image.

    python scripts/lock.py            # rewrite requirements.lock
    python scripts/lock.py --check    # exit 1 when the lock no longer matches pyproject.toml
"""

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
HASH_PREFIX = "# pyproject-dependencies-sha256: "


def canonical(name: str) -> str:
    """A distribution's name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def dependencies_digest(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """A digest of [project].dependencies: the lock records the one it was resolved from."""
    dependencies = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    return hashlib.sha256("\n".join(sorted(dependencies)).encode()).hexdigest()


def resolve() -> dict[str, str]:
    """name -> version of every distribution the project needs at run time, itself excluded."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--dry-run", "--ignore-installed",
             "--report", str(report), str(ROOT)],
            check=True,
        )  # fmt: skip
        installs = json.loads(report.read_text())["install"]
    return {
        canonical(item["metadata"]["name"]): item["metadata"]["version"]
        for item in installs
        if canonical(item["metadata"]["name"]) != "ecs-scheduler"
    }


def render(pins: dict[str, str], digest: str) -> str:
    lines = [
        "# Runtime dependencies of ecs-scheduler, pinned: the image installs exactly these.",
        f"# Resolved for CPython {sys.version_info.major}.{sys.version_info.minor} on Linux by `make lock`"
        " (scripts/lock.py); rerun it after changing [project].dependencies.",
        f"{HASH_PREFIX}{digest}",
        *(f"{name}=={version}" for name, version in sorted(pins.items())),
    ]
    return "\n".join(lines) + "\n"


def read_lock(path: Path = LOCK) -> tuple[str | None, dict[str, str]]:
    """(the digest the lock was made from, name -> pinned version)."""
    digest, pins = None, {}
    for line in path.read_text().splitlines():
        if line.startswith(HASH_PREFIX):
            digest = line[len(HASH_PREFIX) :].strip()
        elif line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonical(name.strip())] = version.strip()
    return digest, pins


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    if args.check:
        digest, _ = read_lock()
        if digest != dependencies_digest():
            print("requirements.lock is stale: run `make lock`", file=sys.stderr)
            return 1
        return 0
    LOCK.write_text(render(resolve(), dependencies_digest()))
    print(f"wrote {LOCK.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
