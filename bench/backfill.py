"""A backfill next to a busy schedule: the operator as a process against an API server (a real
kube-apiserver with KUBEBUILDER_ASSETS) and an ECS stand-in that throttles RunTask like ECS
(100 at once, 40 per second).

    python -m bench.backfill --jobs 1000 --instants 500 --parallelism 20 --window 60 --out docs

`jobs` jobs fire once a minute each, spread over the seconds of the minute (1,000 jobs: about
17 RunTasks a second). After a warm-up, the scheduled fires' lateness (RunTask arrival at the
stand-in minus the instant) is measured for `window` seconds alone, then while a backfill of
`instants` hourly instants runs. Reported: both lateness distributions, every backfill instant
launched once (the stand-in counts clientTokens), how long the backfill took, and how far its
progress in status (`launched`) trailed the RunTasks the stand-in received.
"""

import argparse
import json
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.e2e.awsproxy import EcsBuckets
from tests.e2e.harness import KubeCluster, Operator, wait_for

from bench.awsstandin import AwsStandIn
from bench.ratelimit import ECS_RUN_TASK

SCHEDULED, OWNER = "scheduled", "owner"


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50": round(statistics.median(ordered), 1),
        "p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
        "max": round(ordered[-1], 1),
    }


def lateness_ms(aws: AwsStandIn, start: float, end: float) -> list[float]:
    late = []
    for received, scheduled_at, job in list(aws.sent):
        if job.startswith(f"{SCHEDULED}/") and start <= received < end and scheduled_at:
            instant = datetime.strptime(scheduled_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
            late.append((received - instant) * 1000)
    return late


def run(workdir: Path, jobs: int, instants: int, parallelism: int, window: float) -> dict[str, Any]:
    kube = KubeCluster(workdir / "backfill")
    buckets = EcsBuckets({"RunTask": ECS_RUN_TASK})
    aws = AwsStandIn(buckets)
    operator = None
    try:
        for namespace in (SCHEDULED, OWNER):
            kube.create_namespace(namespace)
        spec = {"taskDefinition": "bench-task", "scheduleSyntax": "EcsScheduler"}
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: kube.apply_job(SCHEDULED, f"job-{i}", {**spec, "schedule": f"{i % 60} * * * * * * *"}),
                          range(jobs)))  # fmt: skip
        kube.apply_job(OWNER, "hourly", {"taskDefinition": "bench-task", "schedule": "0 * * * *"})
        operator = Operator(workdir, kube, aws.url, "--log-level", "WARNING", "--track-interval", "1",
                            name="operator-backfill")  # fmt: skip
        time.sleep(70)  # every job scheduled, a first minute of fires
        alone_from = time.time()
        time.sleep(window)
        top = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        start, end = top - timedelta(hours=instants), top - timedelta(hours=1)
        began = time.time()
        kube.create_run(OWNER, "outage", {"jobName": "hourly", "backfill": {
            "from": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "to": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "parallelism": parallelism}})  # fmt: skip
        progress: list[tuple[float, int]] = []
        stop = threading.Event()

        def watch() -> None:
            while not stop.is_set():
                status = kube.run(OWNER, "outage").get("status") or {}
                progress.append((time.time(), int(status.get("launched") or 0)))
                stop.wait(0.2)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        final = wait_for(lambda: (s := kube.run(OWNER, "outage").get("status") or {}).get("phase") in ("Succeeded", "Failed") and s,
                         timeout=1800, interval=0.5, what="the backfill's end")  # fmt: skip
        took = time.time() - began
        time.sleep(max(0.0, window - took))  # at least a window of fires beside it
        stop.set()
        watcher.join()
        together_to = time.time()
        backfill_calls = sorted(
            (r, s)
            for r, s, job in list(aws.sent)
            if job == f"{OWNER}/hourly" and s < top.strftime("%Y-%m-%dT%H:%M:%SZ")
        )
        arrivals = [received for received, _ in backfill_calls]
        lags = []
        for k, arrived in enumerate(arrivals, 1):
            seen = next((t for t, launched in progress if launched >= k and t >= arrived), None)
            if seen is not None:
                lags.append((seen - arrived) * 1000)
        alone = lateness_ms(aws, alone_from, alone_from + window)
        together = lateness_ms(aws, began, together_to)
        return {
            "api_server": "kube-apiserver" if kube.real else "test-server",
            "scheduled_jobs": jobs,
            "backfill_instants": instants,
            "parallelism": parallelism,
            "backfill_phase": final["phase"],
            "backfill_succeeded": final.get("succeeded"),
            "backfill_instants_launched": len({s for _, s in backfill_calls}),
            "backfill_duplicate_tokens": sum(n - 1 for n in aws.tokens.values() if n > 1),
            "backfill_seconds": round(took, 1),
            "scheduled_lateness_ms_alone": percentiles(alone),
            "scheduled_lateness_ms_with_backfill": percentiles(together),
            "p99_ratio_with_vs_alone": round(
                percentiles(together)["p99"] / max(1.0, percentiles(alone)["p99"]), 2
            ),
            "status_progress_lag_ms": percentiles(lags),
            "throttled": buckets.throttled["RunTask"],
        }
    finally:
        if operator is not None:
            operator.stop()
        kube.stop()
        aws.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--instants", type=int, default=500)
    parser.add_argument("--parallelism", type=int, default=20)
    parser.add_argument("--window", type=float, default=60)
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args()
    result = run(
        Path(tempfile.mkdtemp(prefix="backfill-")), args.jobs, args.instants, args.parallelism, args.window
    )
    print(json.dumps(result, indent=1), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"bench-backfill-{result['api_server']}.json").write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
