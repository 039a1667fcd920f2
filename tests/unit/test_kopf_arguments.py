"""How the operator starts kopf: its own identity, and no namespace scan with plain names."""

import asyncio
import getpass
from pathlib import Path

import pytest

from ecs_scheduler.cli import kopf_arguments
from ecs_scheduler.model.config import OperatorConfig


@pytest.mark.parametrize(
    ("namespaces", "clusterwide", "scanning_disabled"),
    [
        pytest.param((), True, False, id="all namespaces: scan CRDs, no namespace list"),
        pytest.param(("team-a",), False, True, id="one name"),
        pytest.param(("team-a", "team-b"), False, True, id="names"),
        pytest.param(("team-*",), False, False, id="glob"),
        pytest.param(("team-?",), False, False, id="single-character glob"),
        pytest.param(("team-[ab]",), False, False, id="character class"),
        pytest.param(("team-a", "!team-b"), False, False, id="exclusion"),
    ],
)
def test_namespace_modes(namespaces: tuple[str, ...], clusterwide: bool, scanning_disabled: bool) -> None:
    arguments = kopf_arguments(OperatorConfig(namespaces=namespaces), asyncio.Event())
    assert arguments["clusterwide"] is clusterwide
    assert arguments["settings"].scanning.disabled is scanning_disabled


def test_identity_is_ours_and_needs_no_user_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under a uid with no passwd entry getpass.getuser() raises; kopf would call it for its
    identity unless given one."""

    def no_passwd_entry() -> str:
        raise KeyError("getpwuid(): uid not found: 65532")

    monkeypatch.setattr(getpass, "getuser", no_passwd_entry)
    for variable in ("USER", "LOGNAME", "USERNAME", "LNAME", "HOME", "POD_ID"):
        monkeypatch.delenv(variable, raising=False)
    arguments = kopf_arguments(OperatorConfig(identity="ecs-scheduler-7d9f-abcde"), asyncio.Event())
    assert arguments["identity"] == "ecs-scheduler-7d9f-abcde"


@pytest.mark.parametrize(
    ("watch", "namespace", "served"),
    [
        (["team-a"], "team-a", True),
        (["team-a"], "team-b", False),
        (["team-a", "team-b"], "team-b", True),
        (["team-*"], "team-x", True),
        (["team-*"], "other", False),
        (["team-*", "!team-legacy"], "team-x", True),
        (["team-*", "!team-legacy"], "team-legacy", False),
        (["team-*", "!team-legacy"], "other", False),
        (["a", "b", "!c"], "b", True),
        (["a", "b", "!c"], "c", False),
        (["!legacy"], "anything", True),
        (["!legacy"], "legacy", False),
        (["!x", "!y"], "y", False),
        (["!x", "!y"], "z", True),
        (["team-*", "!team-old-*", "!team-tmp"], "team-old-1", False),
        (["team-*", "!team-old-*", "!team-tmp"], "team-tmp", False),
        (["team-*", "!team-old-*", "!team-tmp"], "team-new", True),
    ],
)
def test_namespaces_served_as_documented(watch: list[str], namespace: str, served: bool) -> None:
    """Judged by kopf's own matcher: served when any inclusive entry matches and no `!` entry does."""
    from kopf._cogs.structs.references import match_namespace

    patterns = kopf_arguments(OperatorConfig(namespaces=tuple(watch)), asyncio.Event())["namespaces"]
    assert any(match_namespace(namespace, pattern) for pattern in patterns) is served


def test_only_event_handlers_so_no_diff_base_is_needed() -> None:
    """kopf's diff base serves on.create/on.update/on.field handlers; there must be none."""
    import kopf

    import ecs_scheduler.handlers.watch  # noqa: F401  (registers the handlers)
    from ecs_scheduler.handlers.diffbase import NoDiffBase

    registry = kopf.get_default_registry()
    assert registry._watching.get_all_handlers(), "the on.event handler is registered"
    assert not registry._changing.get_all_handlers() and not registry._spawning.get_all_handlers()
    assert isinstance(
        kopf_arguments(OperatorConfig(), asyncio.Event())["settings"].persistence.diffbase_storage, NoDiffBase
    )


def test_without_any_kubernetes_credentials_run_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ecs_scheduler.cli import main

    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("error: no Kubernetes credentials: not running in a pod") and err.count("\n") == 1
    ), err
