"""--ecs-rate-limit API=RATE/BURST: ECS's defaults, overridden per API, bad entries named."""

import pytest

from ecs_scheduler.model.config import ECS_RATE_LIMITS, RateLimit, parse_rate_limits


@pytest.mark.parametrize(
    ("entries", "api", "expected"),
    [
        ([], "RunTask", RateLimit(40, 100)),
        (["RunTask=20/50"], "RunTask", RateLimit(20, 50)),
        (["RunTask=20/50"], "DescribeTasks", ECS_RATE_LIMITS["DescribeTasks"]),
        (["StopTask=2.5"], "StopTask", RateLimit(2.5, 2.5)),
        (["RunTask=1/1", "RunTask=3/6"], "RunTask", RateLimit(3, 6)),
    ],
)
def test_entries_override_the_defaults(entries: list[str], api: str, expected: RateLimit) -> None:
    assert parse_rate_limits(entries)[api] == expected


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ("RunTasks=20/50", "unknown API 'RunTasks'"),
        ("RunTask=fast", "is not API=RATE/BURST"),
        ("RunTask=0/10", "rate > 0"),
        ("RunTask=5/0.5", "burst >= 1"),
    ],
)
def test_bad_entries_are_refused_with_what_is_wrong(entry: str, complaint: str) -> None:
    with pytest.raises(ValueError, match="--ecs-rate-limit") as caught:
        parse_rate_limits([entry])
    assert complaint in str(caught.value)


def test_defaults_are_not_shared_between_configs() -> None:
    limits = parse_rate_limits(["RunTask=1/1"])
    assert ECS_RATE_LIMITS["RunTask"] == RateLimit(40, 100) and limits is not ECS_RATE_LIMITS


def test_a_bad_flag_stops_the_operator_with_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    from ecs_scheduler.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["run", "--ecs-rate-limit", "RunTask=fast"])
    assert exited.value.code == 2
    assert "--ecs-rate-limit: 'RunTask=fast' is not API=RATE/BURST" in capsys.readouterr().err


@pytest.mark.parametrize("seconds", ["900", "50000"])
def test_a_role_session_too_short_to_refresh_sanely_or_too_long_is_refused(
    seconds: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from ecs_scheduler.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["run", "--assume-role-duration", seconds])
    assert exited.value.code == 2
    assert "--assume-role-duration must be 1200-43200 seconds" in capsys.readouterr().err
