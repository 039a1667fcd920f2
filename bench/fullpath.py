"""The full path a user runs: the operator process (kopf, status writes, Events) against an API
server, the project's test server or a real kube-apiserver + etcd (KUBEBUILDER_ASSETS), with an
ECS stand-in over HTTP that answers at once. Same workload mix as `make bench`.

    python -m bench.fullpath --jobs 1000 10000 --window 60 --out docs

For each size, on a fresh API server: start (every job scheduled, every status current), a
firing window (lateness, status lag seen from outside, API requests per fire by kind, CPU per
fire against boto3's own RunTask CPU, RSS, status backlog), a leader change (SIGKILL of the
leader, the standby takes over) and a cold restart (what it writes when nothing changed).
"""

import argparse
import collections
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.e2e.harness import KubeCluster, Operator, wait_for

from bench.awsstandin import AwsStandIn, boto3_run_task_cost
from bench.one import lateness_ms, summary
from bench.statuswatch import StatusWatch
from bench.workload import body, jobs

OPERATOR_AGENTS = ("kopf/", "ecs-scheduler/")
LEASE = ("--lease-duration", "4", "--lease-retry", "1")
UNPACED = tuple(f"--ecs-rate-limit={api}=100000/100000" for api in ("RunTask", "DescribeTasks"))
"""The stand-in has no rate limit (an account with raised quotas): this bench measures the
operator and the API server, not ECS's pacing (bench/ratelimit.py does that)."""


def scrape(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def handed_over(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Upper bounds of p50 and p99 of the operator's own lateness histogram (instant to RunTask
    handed to the AWS pool) over the window, in ms: what the scheduler adds before boto3."""
    prefix = "ecs_scheduler_schedule_lateness_seconds_bucket{le="
    buckets = sorted(
        (float(name[len(prefix) + 1 : -2]), after[name] - before.get(name, 0))
        for name in after
        if name.startswith(prefix) and "+Inf" not in name
    )
    total = after.get("ecs_scheduler_schedule_lateness_seconds_count", 0) - before.get(
        "ecs_scheduler_schedule_lateness_seconds_count", 0
    )
    bound = lambda q: next((1000 * le for le, count in buckets if count >= q / 100 * total), float("inf"))  # noqa: E731
    return {"p50_at_most": bound(50), "p99_at_most": bound(99)}


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks of 1/100 s


class CpuMeter:
    """CPU used by the API server's processes and by this benchmark (its stand-in and watch),
    between `start` and `read`, in % of one core: who else the operator shares the cores with."""

    def __init__(self, kube: KubeCluster) -> None:
        self._pids = {process.name: process.popen.pid for process in kube.processes}
        self._start = self._now()

    def _now(self) -> tuple[float, dict[str, float]]:
        own = sum(os.times()[:2])
        return time.time(), {**{name: process_cpu(pid) for name, pid in self._pids.items()}, "benchmark": own}

    def restart(self) -> None:
        self._start = self._now()

    def read(self) -> dict[str, float]:
        (t0, before), (t1, after) = self._start, self._now()
        return {name: round(100 * (after[name] - before[name]) / (t1 - t0), 1) for name in after}


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def request_kind(entry: dict[str, Any]) -> str:
    resource = entry["resource"] + (f"/{entry['subresource']}" if entry.get("subresource") else "")
    if resource == "scheduledecsjobs/status" and entry["verb"] == "patch":
        return "status patch"
    if resource == "events":
        return f"event {entry['verb']}"
    return "other"


def operator_requests(kube: KubeCluster) -> list[dict[str, Any]]:
    return [r for r in kube.requests() if r.get("agent", "").startswith(OPERATOR_AGENTS)]


def scheduled(port: int) -> float:
    return scrape(port).get('ecs_scheduler_jobs{reason="Scheduled"}', 0)


def until_scheduled(operator: Operator, count: int, what: str, interval: float = 0.5) -> None:
    """Wait until the operator reports every one of `count` jobs scheduled."""
    wait_for(lambda: scheduled(operator.metrics_port) >= count, timeout=900, interval=interval, what=what)


class Spy:
    """py-spy sampling a process's Python code while it holds the GIL (its CPU), until stopped."""

    def __init__(self, pid: int, output: Path) -> None:
        output.parent.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            [shutil.which("py-spy") or "py-spy", "record", "--pid", str(pid), "--rate", "100", "--nonblocking",
             "--gil", "--format", "raw", "--output", str(output)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def stop(self) -> None:
        self._process.send_signal(signal.SIGINT)  # py-spy writes what it sampled, then exits
        self._process.wait(60)


class Sampler:
    """Every `interval` seconds: the operator's RSS and a scrape of its metrics."""

    def __init__(self, pid: int, port: int, interval: float = 10.0) -> None:
        self.samples: list[tuple[float, float, dict[str, float]]] = []
        self._stop = threading.Event()

        def run() -> None:
            while not self._stop.wait(interval):
                with contextlib.suppress(OSError):  # the operator is being stopped
                    self.samples.append((time.time(), rss_mib(pid), scrape(port)))

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def create_jobs(kube: KubeCluster, count: int) -> None:
    workload = jobs(count)
    for namespace in sorted({job.namespace for job in workload}):
        kube.create_namespace(namespace)
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda item: kube.apply_job(item[1].namespace, item[1].name, body(item[1], item[0], created)["spec"]),
                      enumerate(workload)))  # fmt: skip


def window(
    kube: KubeCluster,
    operator: Operator,
    aws: AwsStandIn,
    watch: StatusWatch,
    seconds: float,
    count: int,
    profile: Path | None = None,
) -> dict[str, Any]:
    """Steady state for `seconds`: what every fire costs and how late things are. With `profile`,
    py-spy samples the operator meanwhile (collapsed stacks, for bench/profile_summary.py)."""
    pid, port = operator.process.popen.pid, operator.metrics_port
    requests_before = len(operator_requests(kube))
    aws.sent.clear()
    others = CpuMeter(kube)
    before, start = scrape(port), time.time()
    cpu0 = process_cpu(pid)
    sampler = Sampler(pid, port)
    spy = Spy(pid, profile / f"operator-{count}.txt") if profile is not None else None
    time.sleep(seconds)
    sampler.stop()
    if spy is not None:
        spy.stop()
    after, end = scrape(port), time.time()
    cpu1 = process_cpu(pid)
    delta = lambda name: after.get(name, 0) - before.get(name, 0)  # noqa: E731
    fires = delta("ecs_scheduler_fires_total")
    kinds = {job.key: job.kind for job in jobs(count)}
    late = lateness_ms([entry for entry in aws.sent if entry[1]], kinds)
    by_kind = collections.Counter(request_kind(r) for r in operator_requests(kube)[requests_before:])
    per_minute = []  # status writes per fire in each minute: flat means no backlog growing
    marks = [(start, before), *[(at, values) for at, _, values in sampler.samples], (end, after)]
    for (_, m0), (t1, m1) in itertools.pairwise(marks):
        fired = m1.get("ecs_scheduler_fires_total", 0) - m0.get("ecs_scheduler_fires_total", 0)
        writes = m1.get("ecs_scheduler_status_write_seconds_count", 0) - m0.get(
            "ecs_scheduler_status_write_seconds_count", 0
        )
        per_minute.append({"at_s": round(t1 - start), "writes_per_fire": round(writes / max(1, fired), 3),
                           "backlog": m1.get("ecs_scheduler_status_backlog"),
                           "backlog_age_s": m1.get("ecs_scheduler_status_backlog_age_seconds")})  # fmt: skip
    cpu_ms_per_fire = 1000 * (cpu1 - cpu0) / max(1, fires)
    return {
        "seconds": round(end - start, 1),
        "fires": fires,
        "lateness_ms": {kind: summary(values) for kind, values in sorted(late.items())},
        "handed_to_aws_pool_ms": handed_over(before, after),
        "status_lag_ms": summary([1000 * lag for lag in watch.lags_between(start, end)]),
        "api_requests_per_fire": {kind: round(n / max(1, fires), 3) for kind, n in sorted(by_kind.items())},
        "kubernetes_writes_per_fire": round((by_kind["status patch"] + by_kind["event create"] + by_kind["event patch"]) / max(1, fires), 3),
        "status_writes_per_fire_over_time": per_minute,
        "status_write_ms_mean": 1000 * delta("ecs_scheduler_status_write_seconds_sum") / max(1, delta("ecs_scheduler_status_write_seconds_count")),
        "operator_cpu_percent": round(100 * (cpu1 - cpu0) / (end - start), 1),
        "others_cpu_percent": others.read(),
        "operator_cpu_ms_per_fire": round(cpu_ms_per_fire, 3),
        "operator_rss_mib": {"end": round(rss_mib(pid), 1), "max": round(max((s[1] for s in sampler.samples), default=rss_mib(pid)), 1)},
    }  # fmt: skip


def run_size(
    count: int, seconds: float, workdir: Path, profile: Path | None = None, warmup: float = 65
) -> dict[str, Any]:
    kube = KubeCluster(workdir / f"jobs-{count}", record=True)
    aws = AwsStandIn()
    operators: list[Operator] = []
    watch = None
    try:
        create_jobs(kube, count)
        boto3_cost = boto3_run_task_cost(aws.url)
        watch = StatusWatch(kube)
        election = ("--leader-election", f"{jobs(1)[0].namespace}/ecs-scheduler", *LEASE)

        def start(name: str) -> Operator:
            operator = Operator(
                workdir, kube, aws.url, "--log-level", "WARNING", *election, *UNPACED, name=f"{name}-{count}"
            )
            operators.append(operator)
            return operator

        others = CpuMeter(kube)
        started = time.time()
        first = start("operator")
        start_cpu0 = process_cpu(first.process.popen.pid)
        spy = Spy(first.process.popen.pid, profile / f"start-{count}.txt") if profile is not None else None
        until_scheduled(first, count, "every job scheduled")
        all_scheduled = time.time() - started
        if spy is not None:
            spy.stop()
        start_cpu = {
            "operator": round(100 * (process_cpu(first.process.popen.pid) - start_cpu0) / all_scheduled, 1),
            **others.read(),
        }
        wait_for(
            lambda: len(watch.scheduled_at) >= count, timeout=900, interval=0.5, what="every status current"
        )
        status_current = max(watch.scheduled_at.values()) - started
        time.sleep(warmup)  # every job fired once: what follows is the steady state, not first fires
        steady = window(kube, first, aws, watch, seconds, count, profile)
        steady["boto3_run_task_alone_ms"] = boto3_cost
        steady["cpu_per_fire_vs_boto3_run_task"] = round(
            steady["operator_cpu_ms_per_fire"] / boto3_cost["cpu_ms"], 2
        )

        # Leader change: a standby that has listed every job takes over from a killed leader.
        standby = start("standby")
        time.sleep(max(10.0, count / 500))  # the standby lists and holds every job meanwhile
        killed = time.time()
        first.process.stop(signal.SIGKILL)
        until_scheduled(standby, count, "standby scheduling", interval=0.2)
        takeover = time.time() - killed

        # Cold restart: nothing changed, so (beyond the fires due meanwhile) nothing is rewritten.
        standby.stop()
        restarted = time.time()
        fires_before = len(aws.sent)
        patches_before = collections.Counter(request_kind(r) for r in operator_requests(kube))["status patch"]
        cold = start("restart")
        until_scheduled(cold, count, "every job scheduled after restart")
        restart_scheduled = time.time() - restarted
        time.sleep(10)
        patches = (
            collections.Counter(request_kind(r) for r in operator_requests(kube))["status patch"]
            - patches_before
        )
        fired = len(aws.sent) - fires_before
        for operator in operators:
            operator.stop()
        return {
            "jobs": count, "api_server": kube.kind,
            "start_to_all_scheduled_s": round(all_scheduled, 2), "start_to_every_status_current_s": round(status_current, 2),
            "start_cpu_percent": start_cpu,
            "steady": steady,
            "leader_change_kill_to_all_scheduled_s": round(takeover, 2),
            "restart_to_all_scheduled_s": round(restart_scheduled, 2),
            "restart_status_patches": patches, "restart_fires_meanwhile": fired,
        }  # fmt: skip
    finally:
        if watch is not None:
            watch.stop()
        for operator in operators:
            operator.stop()
        kube.stop()
        aws.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, nargs="+", default=[1000])
    parser.add_argument("--window", type=float, default=60)
    parser.add_argument("--out", type=Path, default=Path("docs"))
    parser.add_argument(
        "--profile", type=Path, help="py-spy samples of the operator during each window, here"
    )
    parser.add_argument("--warmup", type=float, default=65, help="seconds after start before the window")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="fullpath-"))
    results = []
    for count in args.jobs:
        result = run_size(count, args.window, workdir, args.profile, args.warmup)
        print(json.dumps(result, indent=1), flush=True)
        results.append(result)
    args.out.mkdir(parents=True, exist_ok=True)
    server = results[0]["api_server"]
    (args.out / f"bench-fullpath-{server}.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
