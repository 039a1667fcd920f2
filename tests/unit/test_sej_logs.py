"""`kubectl sej logs`: which streams are read, how lines are prefixed, and -f following until the
tasks stop (CloudWatch replaced at the plugin's own boundary, `stream_events`)."""

from typing import Any

import pytest

from ecs_scheduler.sej import logs
from ecs_scheduler.sej.table import table

APP = {"taskId": "aaaaaaaa1111", "container": "app", "logGroup": "g", "logStream": "p/app/aaaaaaaa1111"}
SIDECAR = {
    "taskId": "aaaaaaaa1111",
    "container": "sidecar",
    "logGroup": "g",
    "logStream": "p/sidecar/aaaaaaaa1111",
}
SPLUNK = {"taskId": "aaaaaaaa1111", "container": "shipper", "note": "log driver splunk: not CloudWatch Logs"}


class Streams:
    """Each read of a stream returns the lines written since the last read."""

    def __init__(self, batches: dict[str, list[list[str]]]) -> None:
        self.batches = batches
        self.reads: list[str] = []

    def __call__(self, location: dict[str, str], token: str | None) -> tuple[list[str], str | None]:
        stream = location["logStream"]
        self.reads.append(stream)
        pending = self.batches.get(stream) or [[]]
        return pending.pop(0) if len(pending) > 1 else pending[0], "t"


def run(
    monkeypatch: Any, streams: Streams, locations: list[dict[str, str]], **kwargs: Any
) -> tuple[list[str], int]:
    monkeypatch.setattr(logs, "stream_events", streams)
    monkeypatch.setattr(logs.time, "sleep", lambda _: None)
    printed: list[str] = []
    missing = logs.print_logs(locations, write=printed.append, **{"container": None, "follow": False,
                                                                   "finished": lambda: True, **kwargs})  # fmt: skip
    return printed, missing


def test_one_stream_prints_bare_lines_and_several_are_prefixed(monkeypatch: Any) -> None:
    printed, missing = run(monkeypatch, Streams({APP["logStream"]: [["hello"]]}), [APP, SPLUNK])
    assert (printed, missing) == (["hello\n"], 1)
    printed, _ = run(
        monkeypatch, Streams({APP["logStream"]: [["a"]], SIDECAR["logStream"]: [["b"]]}), [APP, SIDECAR]
    )
    assert printed == ["[app aaaaaaaa] a\n", "[sidecar aaaaaaaa] b\n"]


def test_container_picks_one_stream(monkeypatch: Any) -> None:
    streams = Streams({APP["logStream"]: [["a"]], SIDECAR["logStream"]: [["b"]]})
    printed, _ = run(monkeypatch, streams, [APP, SIDECAR], container="sidecar")
    assert printed == ["b\n"] and streams.reads == [SIDECAR["logStream"]]


@pytest.mark.parametrize("rounds_until_stopped", [0, 1, 3])
def test_follow_reads_until_the_tasks_stop_then_once_more(
    monkeypatch: Any, rounds_until_stopped: int
) -> None:
    batches = [[f"line {i}"] for i in range(rounds_until_stopped + 1)] + [["last words"], []]
    answers = iter([False] * rounds_until_stopped + [True])
    printed, _ = run(
        monkeypatch, Streams({APP["logStream"]: batches}), [APP], follow=True, finished=lambda: next(answers)
    )
    assert printed == [f"line {i}\n" for i in range(rounds_until_stopped + 1)]


def test_tables_line_up_like_kubectl() -> None:
    assert table(["Name", "Phase"], [["a-long-name", "Succeeded"], ["b", None]]) == (
        "NAME          PHASE\na-long-name   Succeeded\nb             <none>\n"
    )
