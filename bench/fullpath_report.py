"""docs tables from bench/fullpath.py results: one column per size, the figures the targets name.

python -m bench.fullpath_report docs/bench-fullpath-kube-apiserver.json
"""

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

Result = dict[str, Any]


def _ms(value: float) -> str:
    return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"


def _pair(found: dict[str, float]) -> str:
    return f"{_ms(found['p50'])} / {_ms(found['p99'])}"


def _growth(result: Result) -> str:
    """Status backlog over the window: its largest size and age, and whether it grew."""
    points = result["steady"]["status_writes_per_fire_over_time"]
    largest = max(point["backlog"] for point in points)
    oldest = max(point["backlog_age_s"] for point in points)
    return f"max {largest:.0f} (oldest {oldest:.0f} s), last {points[-1]['backlog']:.0f}"


ROWS: list[tuple[str, Callable[[Result], str]]] = [
    ("start -> every job scheduled", lambda r: f"{r['start_to_all_scheduled_s']:.1f} s"),
    ("start -> every status current", lambda r: f"{r['start_to_every_status_current_s']:.1f} s"),
    ("fires in the window", lambda r: f"{r['steady']['fires']:.0f} in {r['steady']['seconds']:.0f} s"),
    ("spread lateness p50 / p99", lambda r: _pair(r["steady"]["lateness_ms"]["spread"])),
    ("burst lateness p50 / p99", lambda r: _pair(r["steady"]["lateness_ms"]["burst"])),
    ("status lag p50 / p99 (outside watch)", lambda r: _pair(r["steady"]["status_lag_ms"])),
    ("Kubernetes writes per fire", lambda r: f"{r['steady']['kubernetes_writes_per_fire']:.2f}"),
    (
        "of which status patches / Event writes",
        lambda r: "{:.2f} / {:.2f}".format(
            r["steady"]["api_requests_per_fire"].get("status patch", 0),
            sum(v for k, v in r["steady"]["api_requests_per_fire"].items() if k.startswith("event")),
        ),
    ),
    ("status backlog over the window", _growth),
    ("operator CPU per fire", lambda r: f"{r['steady']['operator_cpu_ms_per_fire']:.2f} ms"),
    ("boto3 RunTask CPU alone", lambda r: f"{r['steady']['boto3_run_task_alone_ms']['cpu_ms']:.2f} ms"),
    ("ratio", lambda r: f"{r['steady']['cpu_per_fire_vs_boto3_run_task']:.2f}x"),
    ("operator CPU (of one core)", lambda r: f"{r['steady']['operator_cpu_percent']:.0f} %"),
    (
        "API server / etcd CPU (of one core)",
        lambda r: "{:.0f} % / {:.0f} %".format(
            r["steady"]["others_cpu_percent"].get("kube-apiserver", 0),
            r["steady"]["others_cpu_percent"].get("etcd", 0),
        ),
    ),
    ("operator RSS max", lambda r: f"{r['steady']['operator_rss_mib']['max']:.0f} MiB"),
    ("leader killed -> all scheduled", lambda r: f"{r['leader_change_kill_to_all_scheduled_s']:.1f} s"),
    ("restart -> all scheduled", lambda r: f"{r['restart_to_all_scheduled_s']:.1f} s"),
    (
        "restart: status patches / fires meanwhile",
        lambda r: f"{r['restart_status_patches']} / {r['restart_fires_meanwhile']}",
    ),
]


def table(results: list[Result]) -> str:
    header = "| measure | " + " | ".join(f"{r['jobs']:,} jobs" for r in results) + " |"
    lines = [header, "|---|" + "---:|" * len(results)]
    lines += [f"| {name} | " + " | ".join(cell(r) for r in results) + " |" for name, cell in ROWS]
    return "\n".join(lines) + "\n"


def main() -> None:
    for path in sys.argv[1:]:
        results = json.loads(Path(path).read_text())
        print(f"{results[0]['api_server']} ({Path(path).name})\n")
        print(table(results))


if __name__ == "__main__":
    main()
