"""requirements.lock is what the image installs: it must match pyproject.toml and be complete."""

import importlib.metadata
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from scripts.lock import LOCK, ROOT, dependencies_digest, read_lock

DIGEST, PINS = read_lock(LOCK)
DEPENDENCIES = [
    Requirement(r) for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
]


def test_lock_was_made_from_these_dependencies() -> None:
    assert dependencies_digest() == DIGEST, "pyproject.toml's dependencies changed: run `make lock`"


@pytest.mark.parametrize("requirement", DEPENDENCIES, ids=str)
def test_every_dependency_is_pinned_within_its_range(requirement: Requirement) -> None:
    pinned = PINS.get(canonicalize_name(requirement.name))
    assert pinned is not None, f"{requirement.name} is not in requirements.lock: run `make lock`"
    assert requirement.specifier.contains(pinned, prereleases=True), (
        f"{requirement.name}=={pinned} is not {requirement}"
    )


@pytest.mark.parametrize("name", sorted(PINS))
def test_tests_run_on_the_locked_version(name: str) -> None:
    """`make install` installs with the lock as constraints, so the tests exercise the image's set."""
    assert importlib.metadata.version(name) == PINS[name], "run `make install` (it installs with the lock)"


@pytest.mark.parametrize("name", sorted(PINS))
def test_lock_is_closed(name: str) -> None:
    """Everything a locked distribution needs at run time is locked too, at a version it accepts
    (the Dockerfile installs with --no-deps and `pip check`s the result)."""
    for text in importlib.metadata.requires(name) or []:
        requirement = Requirement(text)
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue  # optional (an extra) or for another platform or Python
        pinned = PINS.get(canonicalize_name(requirement.name))
        assert pinned is not None, f"{name} needs {requirement}, which the lock lacks: run `make lock`"
        assert requirement.specifier.contains(pinned, prereleases=True), (
            f"{name} needs {requirement}, locked {pinned}"
        )
