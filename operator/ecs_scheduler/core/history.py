"""status.history: the latest runs, trimmed like a CronJob's successful and failed job limits."""

from collections.abc import Mapping, Sequence
from typing import Any


def with_record(
    history: Sequence[Mapping[str, Any]], record: Mapping[str, Any], *, successes: int, others: int
) -> list[dict[str, Any]]:
    """History (oldest first) with `record` appended, keeping the newest `successes` successful
    records and the newest `others` of every other outcome."""
    entries = [dict(r) for r in history] + [dict(record)]
    kept: list[dict[str, Any]] = []
    room = {True: successes, False: others}
    for entry in reversed(entries):
        succeeded = entry.get("outcome") == "Succeeded"
        if room[succeeded] > 0:
            room[succeeded] -= 1
            kept.append(entry)
    kept.reverse()
    return kept
