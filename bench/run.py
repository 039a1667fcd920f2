"""`make bench`: both schedulers, every size, each run in a fresh process; results and plots in docs/.

python -m bench.run                       # 1,000 5,000 10,000 20,000 jobs, 60 s windows
python -m bench.run --sizes 1000 --window 20 --idle-window 5 --out /tmp/bench   # the short one
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ENGINES = ("ours", "apscheduler")


def one(engine: str, jobs: int, window: float, idle: bool) -> dict[str, Any]:
    args = [
        sys.executable,
        "-m",
        "bench.one",
        "--engine",
        engine,
        "--jobs",
        str(jobs),
        "--window",
        str(window),
    ]
    if idle:
        args.append("--idle")
    done = subprocess.run(args, capture_output=True, text=True, check=True, timeout=window + 600)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def measure(sizes: list[int], window: float, idle_window: float) -> list[dict[str, Any]]:
    results = []
    for size in sizes:
        for engine in ENGINES:
            firing = one(engine, size, window, idle=False)
            idle = one(engine, size, idle_window, idle=True)
            results.append({"engine": engine, "jobs": size, "firing": firing, "idle": idle})
            late = firing["lateness_ms"]
            print(f"{engine:12} {size:6} jobs: p99 spread {late.get('spread', {}).get('p99', float('nan')):8.1f} ms, "
                  f"burst {late.get('burst', {}).get('p99', float('nan')):8.1f} ms, RSS {firing['loaded_rss_mib']:6.1f} MiB, "
                  f"idle CPU {idle['cpu_percent']:.2f} %", flush=True)  # fmt: skip
    return results


def _get(results: list[dict[str, Any]], engine: str, size: int) -> dict[str, Any]:
    return next(r for r in results if r["engine"] == engine and r["jobs"] == size)


def _late(run: dict[str, Any], kind: str, q: str) -> float:
    return float(run["firing"]["lateness_ms"].get(kind, {}).get(q, float("nan")))


def plots(results: list[dict[str, Any]], out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted({r["jobs"] for r in results})
    made = []
    for name, title, unit, value in (
        ("bench-lateness.png", "p99 lateness, every-minute jobs spread over seconds", "ms",
         lambda r: _late(r, "spread", "p99")),
        ("bench-burst.png", "p99 lateness, burst (10 % of jobs on one second)", "ms", lambda r: _late(r, "burst", "p99")),
        ("bench-memory.png", "resident memory with all jobs loaded", "MiB", lambda r: r["firing"]["loaded_rss_mib"]),
    ):  # fmt: skip
        figure, axes = plt.subplots(figsize=(6, 4))
        for engine, label in (("ours", "ecs-scheduler"), ("apscheduler", "APScheduler 3 (AsyncIOScheduler)")):
            axes.plot(sizes, [value(_get(results, engine, s)) for s in sizes], marker="o", label=label)
        axes.set_xlabel("jobs")
        axes.set_ylabel(unit)
        axes.set_title(title)
        axes.grid(True, alpha=0.3)
        axes.legend()
        figure.tight_layout()
        figure.savefig(out / name, dpi=100)
        plt.close(figure)
        made.append(name)
    return made


def report(results: list[dict[str, Any]], window: float, idle_window: float) -> str:
    sizes = sorted({r["jobs"] for r in results})
    lines = [
        "| jobs | engine | spread p50 / p99 / max (ms) | burst p50 / p99 / max (ms) | RSS loaded (MiB) | CPU idle (% of a core) | CPU firing (%) | resume (s) | API calls per fire |",
        "| ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size in sizes:
        for engine in ENGINES:
            r = _get(results, engine, size)
            f = r["firing"]
            trio = lambda kind, r=r: " / ".join(f"{_late(r, kind, q):.1f}" for q in ("p50", "p99", "max"))  # noqa: E731
            lines.append(
                f"| {size:,} | {engine} | {trio('spread')} | {trio('burst')} | {f['loaded_rss_mib']:.0f} | "
                f"{r['idle']['cpu_percent']:.2f} | {f['cpu_percent']:.1f} | {f['resume_s']:.2f} | {f['api_calls_per_fire']:.1f} |"
            )  # fmt: skip
    lines += ["", "Ratios (APScheduler / ecs-scheduler; above 1 means ours is better):", "",
              "| jobs | p99 spread | p99 burst | p99 all fires | RSS | idle CPU |",
              "| ---: | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
    for size in sizes:
        ours, aps = _get(results, "ours", size), _get(results, "apscheduler", size)
        ratio = lambda a, b: a / b if b else float("nan")  # noqa: E731
        lines.append(
            f"| {size:,} | {ratio(_late(aps, 'spread', 'p99'), _late(ours, 'spread', 'p99')):.2f} | "
            f"{ratio(_late(aps, 'burst', 'p99'), _late(ours, 'burst', 'p99')):.2f} | "
            f"{ratio(_late(aps, 'all', 'p99'), _late(ours, 'all', 'p99')):.2f} | "
            f"{ratio(aps['firing']['loaded_rss_mib'], ours['firing']['loaded_rss_mib']):.2f} | "
            f"{ratio(aps['idle']['cpu_percent'], ours['idle']['cpu_percent']):.2f} |"
        )  # fmt: skip
    lines += ["", f"Firing windows of {window:.0f} s, idle windows of {idle_window:.0f} s, one run each."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 10000, 20000])
    parser.add_argument("--window", type=float, default=60)
    parser.add_argument("--idle-window", type=float, default=10)
    parser.add_argument("--out", type=Path, default=Path("docs"))
    parser.add_argument("--report-only", action="store_true", help="redraw from the saved results")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.report_only:
        results = json.loads((args.out / "bench-results.json").read_text())
    else:
        results = measure(args.sizes, args.window, args.idle_window)
        (args.out / "bench-results.json").write_text(json.dumps(results, indent=1) + "\n")
    plots(results, args.out)
    (args.out / "bench-table.md").write_text(report(results, args.window, args.idle_window))
    print((args.out / "bench-table.md").read_text())


if __name__ == "__main__":
    main()
