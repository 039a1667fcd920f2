"""Launches within ECS's rate limits: the operator as a process against an API server (a real
kube-apiserver with KUBEBUILDER_ASSETS) and an ECS stand-in that throttles RunTask like ECS
(100 at once, 40 per second), answering 400 ThrottlingException past that.

    python -m bench.ratelimit --burst 5000 --sustain 300 --shrink-after 150 --out docs

Scenarios, each on a fresh API server:
- burst: N jobs in one namespace and one job in another, all at the same second. Lost runs,
  duplicates, throttled responses, the last launch against the physical minimum
  (N - burst) / rate, and when the other namespace's job launched. `--burst-under-load` repeats
  one burst while another process keeps one core busy (a Python busy loop).
- overload: N jobs in one namespace firing every minute (more than the account's 2,400 per
  minute) and one job in another namespace on the same instants, for some minutes: how late the
  lone job was at each instant, the big namespace's backlog over time, and that every launch of
  an instant that ended was either sent once or recorded Missed (past startingDeadlineSeconds).
- sustained: jobs that need 40 RunTasks every second (spread over the minute) for `sustain`
  seconds; after `shrink-after` seconds the account's bucket refills at 20 per second (another
  client took the rest). Throttled responses before and after, and nothing lost.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.e2e.awsproxy import EcsBuckets
from tests.e2e.harness import KubeCluster, Operator, wait_for

from bench.awsstandin import AwsStandIn
from bench.fullpath import scrape

ECS_RUN_TASK = (40.0, 100.0)
"""ECS's RunTask bucket: refill per second, capacity."""
BULK, OTHER = "bulk", "other"


def _create(kube: KubeCluster, jobs: list[tuple[str, str, dict[str, Any]]]) -> None:
    for namespace in sorted({namespace for namespace, _, _ in jobs}):
        kube.create_namespace(namespace)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda job: kube.apply_job(*job), jobs))


def _launched(aws: AwsStandIn) -> dict[str, float]:
    """First successful RunTask arrival per job."""
    first: dict[str, float] = {}
    for received, _, job in list(aws.sent):
        first.setdefault(job, received)
    return first


def burst(workdir: Path, count: int, *, under_load: bool = False) -> dict[str, Any]:
    kube = KubeCluster(workdir / f"burst-{count}{'-loaded' if under_load else ''}")
    load = None
    buckets = EcsBuckets({"RunTask": ECS_RUN_TASK})
    aws = AwsStandIn(buckets)
    operator = None
    try:
        # One instant far enough ahead for every job to be created and scheduled first.
        instant = (datetime.now(UTC) + timedelta(seconds=60 + count / 50)).replace(microsecond=0)
        schedule = f"{instant.second} {instant.minute} {instant.hour} * * * * *"
        spec = {"taskDefinition": "bench-task", "schedule": schedule, "scheduleSyntax": "EcsScheduler"}
        jobs = [(BULK, f"job-{i}", spec) for i in range(count)] + [(OTHER, "lonely", spec)]
        _create(kube, jobs)
        operator = Operator(workdir, kube, aws.url, "--log-level", "WARNING", name=f"operator-burst-{count}")
        if under_load:  # another tenant of the machine: one core kept busy through the burst
            load = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        wait_for(lambda: time.time() > instant.timestamp(), timeout=900, interval=0.5, what="the instant")
        wait_for(
            lambda: len(_launched(aws)) >= count + 1, timeout=60 + count / 10, interval=1, what="every launch"
        )
        time.sleep(3)  # anything sent twice would arrive now
        first = _launched(aws)
        at = instant.timestamp()
        last = max(first.values()) - at
        minimum = (count + 1 - ECS_RUN_TASK[1]) / ECS_RUN_TASK[0]
        metrics = scrape(operator.metrics_port)
        calls = aws.calls["RunTask"]
        return {
            "jobs_on_one_second": count + 1,
            "another_load": "one busy-looping process" if under_load else "none",
            "launched": len(first),
            "lost": count + 1 - len(first),
            "duplicates": sum(n - 1 for n in aws.tokens.values() if n > 1),
            "run_task_calls": calls,
            "throttled": buckets.throttled["RunTask"],
            "throttled_share": round(buckets.throttled["RunTask"] / max(1, calls), 4),
            "last_launch_after_instant_s": round(last, 2),
            "physical_minimum_s": round(minimum, 2),
            "last_vs_minimum": round(last / minimum, 3),
            "other_namespace_launch_after_instant_s": round(first[f"{OTHER}/lonely"] - at, 2),
            "queue_wait_count": metrics.get("ecs_scheduler_launch_queue_wait_seconds_count", 0),
        }
    finally:
        if load is not None:
            load.kill()
            load.wait()
        if operator is not None:
            operator.stop()
        kube.stop()
        aws.close()


def overload(workdir: Path, count: int, minutes: int, deadline: int) -> dict[str, Any]:
    """`count` jobs in one namespace on every minute and one in another, for `minutes` minutes."""
    kube = KubeCluster(workdir / f"overload-{count}")
    buckets = EcsBuckets({"RunTask": ECS_RUN_TASK})
    aws = AwsStandIn(buckets)
    operator = None
    try:
        spec = {"taskDefinition": "bench-task", "schedule": "0 * * * * * * *", "scheduleSyntax": "EcsScheduler",
                "startingDeadlineSeconds": deadline}  # fmt: skip
        _create(kube, [(BULK, f"job-{i}", spec) for i in range(count)] + [(OTHER, "lonely", spec)])
        operator = Operator(
            workdir, kube, aws.url, "--log-level", "WARNING", name=f"operator-overload-{count}"
        )
        first = (int(time.time()) // 60 + 1) * 60
        instants = [first + 60 * i for i in range(minutes)]
        backlog: list[tuple[float, dict[str, float]]] = []
        while time.time() < instants[-1] + deadline + 10:  # the last instant's deadline has passed
            metrics = scrape(operator.metrics_port)
            backlog.append((round(time.time() - first, 1), {
                ns: metrics.get(f'ecs_scheduler_launch_backlog{{namespace="{ns}"}}', 0.0) for ns in (BULK, OTHER)}))  # fmt: skip
            time.sleep(10)
        metrics = scrape(operator.metrics_port)
        sent = [(received, at, job) for received, at, job in aws.sent]
        stamp = {t: datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") for t in instants}
        lone = {t: min((r for r, at, job in sent if job == f"{OTHER}/lonely" and at == stamp[t]), default=None)
                for t in instants}  # fmt: skip
        launched = {
            t: sum(1 for _, at, job in sent if at == stamp[t] and job.startswith(f"{BULK}/"))
            for t in instants
        }
        missed = metrics.get("ecs_scheduler_missed_instants_total", 0.0)
        expected = count * len(instants)
        lateness = [None if r is None else round(r - t, 2) for t, r in lone.items()]
        return {
            "jobs": count, "budget_per_minute": int(ECS_RUN_TASK[0] * 60), "minutes": minutes,
            "starting_deadline_seconds": deadline,
            "lone_job_lateness_s": lateness,
            "lone_job_worst_s": max((x for x in lateness if x is not None), default=None),
            "big_namespace_launched_per_instant": list(launched.values()),
            "big_namespace_launched": sum(launched.values()), "missed": missed,
            "lost": expected + len(instants) - sum(launched.values()) - sum(1 for r in lone.values() if r) - missed,
            "duplicates": sum(n - 1 for n in aws.tokens.values() if n > 1),
            "run_task_calls": aws.calls["RunTask"], "throttled": buckets.throttled["RunTask"],
            "backlog_over_time": backlog,
        }  # fmt: skip
    finally:
        if operator is not None:
            operator.stop()
        kube.stop()
        aws.close()


def sustained(workdir: Path, seconds: float, shrink_after: float) -> dict[str, Any]:
    """40 RunTasks a second: 2,400 jobs each minute, 40 on each second of the minute."""
    kube = KubeCluster(workdir / "sustained")
    buckets = EcsBuckets({"RunTask": ECS_RUN_TASK})
    aws = AwsStandIn(buckets)
    operator = None
    per_second = int(ECS_RUN_TASK[0])
    try:
        jobs = [
            (BULK, f"job-{i}", {"taskDefinition": "bench-task", "schedule": f"{i % 60} * * * * * * *",
                                "scheduleSyntax": "EcsScheduler"})
            for i in range(per_second * 60)
        ]  # fmt: skip
        _create(kube, jobs)
        operator = Operator(workdir, kube, aws.url, "--log-level", "WARNING", name="operator-sustained")
        time.sleep(65)  # every job has fired once: the steady state
        start, sent0 = time.time(), len(aws.sent)
        calls0, throttled0 = aws.calls["RunTask"], buckets.throttled["RunTask"]
        time.sleep(shrink_after)
        calls1, throttled1, sent1 = aws.calls["RunTask"], buckets.throttled["RunTask"], len(aws.sent)
        buckets.set_rate("RunTask", ECS_RUN_TASK[0] / 2)
        time.sleep(seconds - shrink_after)
        end = time.time()
        calls2, throttled2, sent2 = aws.calls["RunTask"], buckets.throttled["RunTask"], len(aws.sent)
        metrics = scrape(operator.metrics_port)
        queued = metrics.get("ecs_scheduler_launch_queue", 0)
        failures = sum(v for k, v in metrics.items() if k.startswith("ecs_scheduler_runtask_failures_total"))
        return {
            "demand_per_s": per_second,
            "full_rate": {"seconds": shrink_after, "launches_per_s": round((sent1 - sent0) / shrink_after, 1),
                          "run_task_calls": calls1 - calls0, "throttled": throttled1 - throttled0},
            "shrunk_to_20_per_s": {"seconds": round(end - start - shrink_after),
                                   "launches_per_s": round((sent2 - sent1) / (end - start - shrink_after), 1),
                                   "run_task_calls": calls2 - calls1, "throttled": throttled2 - throttled1,
                                   "throttled_share": round((throttled2 - throttled1) / max(1, calls2 - calls1), 4)},
            "queued_at_end": queued,
            "launch_failures": failures,
            "duplicates": sum(n - 1 for n in aws.tokens.values() if n > 1),
            "paced_rate_at_end": metrics.get('ecs_scheduler_ecs_paced_rate{operation="RunTask"}'),
        }  # fmt: skip
    finally:
        if operator is not None:
            operator.stop()
        kube.stop()
        aws.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--burst", type=int, nargs="*", default=[])
    parser.add_argument("--sustain", type=float, default=0)
    parser.add_argument("--shrink-after", type=float, default=150)
    parser.add_argument("--burst-under-load", type=int, default=0, help="jobs of a burst with another load")
    parser.add_argument("--overload", type=int, default=0, help="jobs on every minute in one namespace")
    parser.add_argument("--overload-minutes", type=int, default=5)
    parser.add_argument("--overload-deadline", type=int, default=120)
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ratelimit-"))
    target = args.out / "bench-ratelimit.json"
    results: dict[str, Any] = json.loads(target.read_text()) if target.exists() else {}
    if args.burst:
        results["burst"] = []
    for count in args.burst:
        results["burst"].append(burst(workdir, count))
        print(json.dumps(results["burst"][-1], indent=1), flush=True)
    if args.burst_under_load:
        results["burst_under_load"] = burst(workdir, args.burst_under_load, under_load=True)
        print(json.dumps(results["burst_under_load"], indent=1), flush=True)
    if args.overload:
        results["overload"] = overload(workdir, args.overload, args.overload_minutes, args.overload_deadline)
        print(json.dumps(results["overload"], indent=1), flush=True)
    if args.sustain > 0:
        results["sustained"] = sustained(workdir, args.sustain, args.shrink_after)
        print(json.dumps(results["sustained"], indent=1), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
