"""One benchmark run in a fresh process: one engine, one size, firing or idle. Prints JSON.

python -m bench.one --engine ours --jobs 10000 --window 60
python -m bench.one --engine apscheduler --jobs 10000 --window 20 --idle
"""

import argparse
import asyncio
import gc
import json
import logging
import resource
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.standins import CountingKube, InstantEcs, NoTaskDefinitions
from bench.workload import Job, body, jobs


def rss_mib() -> tuple[float, float]:
    """(current, peak) resident memory of this process, in MiB."""
    values = {}
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, amount, _ = line.split()
                values[key] = int(amount) / 1024
    return values["VmRSS:"], values["VmHWM:"]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def lateness_ms(sent: list[tuple[float, str, str]], kinds: dict[str, str]) -> dict[str, list[float]]:
    """Lateness of every RunTask, by the kind of job (spread, burst, hourly) and in all."""
    by_kind: dict[str, list[float]] = {"all": []}
    for at, tag, job in sent:
        late = (at - datetime.strptime(tag, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()) * 1000
        by_kind["all"].append(late)
        by_kind.setdefault(kinds.get(job, "?"), []).append(late)
    return by_kind


def summary(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50": percentile(values, 50), "p99": percentile(values, 99),
            "max": max(values, default=float("nan"))}  # fmt: skip


async def _measure(
    window: float, ecs: InstantEcs, counters: Any, fired: Any, kinds: dict[str, str]
) -> dict[str, Any]:
    """Sleep through the window; report CPU, lateness and calls made in it."""
    gc.collect()
    ecs.log.clear()
    calls_before = sum(counters().values())
    fires_before = fired()
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    await asyncio.sleep(window)
    cpu_used, wall = cpu_seconds() - cpu0, time.perf_counter() - wall0
    late = lateness_ms(ecs.sent, kinds)
    fires = fired() - fires_before
    return {
        "cpu_percent": 100 * cpu_used / wall,
        "fires": fires,
        "lateness_ms": {kind: summary(values) for kind, values in late.items()},
        "api_calls_per_fire": (sum(counters().values()) - calls_before) / fires if fires else float("nan"),
        "rss_mib": rss_mib()[0],
        "peak_rss_mib": rss_mib()[1],
    }  # fmt: skip


async def ours(count: int, window: float, idle: bool) -> dict[str, Any]:
    from ecs_scheduler.model.config import OperatorConfig
    from ecs_scheduler.runtime.clock import SystemClock
    from ecs_scheduler.runtime.metrics import Metrics
    from ecs_scheduler.runtime.scheduler import Scheduler

    ecs, kube, metrics = InstantEcs(), CountingKube(), Metrics()
    scheduler = Scheduler(
        config=OperatorConfig(track_interval=10), ecs=ecs, kube=kube, clock=SystemClock(), triggers={},
        task_definitions=NoTaskDefinitions(), metrics=metrics,
    )  # fmt: skip
    loop = asyncio.create_task(scheduler.run())
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    selected = jobs(count, idle=idle)
    kinds = {job.key: job.kind for job in selected}
    bodies = [body(job, index, created) for index, job in enumerate(selected)]
    rss_before = rss_mib()[0]
    start = time.perf_counter()
    scheduler.activate()
    for index, item in enumerate(bodies, 1):
        scheduler.observe(item)
        if index % 100 == 0:
            await asyncio.sleep(0)  # kopf hands events over one by one, with the loop running between
    scheduled = time.perf_counter() - start
    while kube.calls["patch_status"] < count:  # noqa: ASYNC110 (polling a stand-in's counter)
        await asyncio.sleep(0.01)  # until every job's first status (Ready, next run) is written
    written = time.perf_counter() - start
    await asyncio.sleep(3)  # settle: the operator freezes the initial objects out of the GC

    def counters() -> dict[str, int]:
        return {**ecs.calls, **kube.calls}

    result = await _measure(window, ecs, counters, lambda: metrics.fires._value.get(), kinds)
    loop.cancel()
    return {**result, "resume_s": scheduled, "resume_with_status_s": written, "loaded_rss_mib": rss_mib()[0],
            "rss_before_jobs_mib": rss_before, "calls": counters()}  # fmt: skip


def _scheduled_instant(job: Job, now: datetime) -> datetime:
    if job.kind == "hourly":
        instant = now.replace(minute=job.minute, second=0, microsecond=0)
        return instant if instant <= now else instant - timedelta(hours=1)
    instant = now.replace(second=job.second, microsecond=0)
    return instant if instant <= now else instant - timedelta(minutes=1)


async def apscheduler(count: int, window: float, idle: bool) -> dict[str, Any]:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from apscheduler.triggers.cron import CronTrigger

    from ecs_scheduler.core.plan import JobIdentity, run_task_calls
    from ecs_scheduler.model.aws import AwsScope
    from ecs_scheduler.model.spec import ScheduledEcsJobSpec

    ecs = InstantEcs()
    fired = [0]
    spec = ScheduledEcsJobSpec.model_validate({"taskDefinition": "bench-task", "schedule": "@daily"})

    async def fire(job: Job, uid: str) -> None:
        # The classic ECS Scheduler's job body, minus AWS: build the RunTask request and send it.
        fired[0] += 1
        instant = _scheduled_instant(job, datetime.now(UTC))
        for call in run_task_calls(spec, job=JobIdentity(job.namespace, job.name, uid), instant=instant,
                                   task_count=1, default_cluster="default", scope=AwsScope("us-east-1"),
                                   started_by="ecs-scheduler"):  # fmt: skip
            await ecs.run_task(call)

    def trigger(job: Job) -> CronTrigger:
        if job.kind == "yearly":
            return CronTrigger(month=1, day=1, hour=0, minute=job.minute, timezone=UTC)
        if job.kind == "hourly":
            return CronTrigger(minute=job.minute, second=0, timezone=UTC)
        return CronTrigger(second=job.second, timezone=UTC)

    scheduler = AsyncIOScheduler(
        timezone=UTC, job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 100}
    )
    selected = jobs(count, idle=idle)
    rss_before = rss_mib()[0]
    start = time.perf_counter()
    for index, job in enumerate(selected):
        scheduler.add_job(fire, trigger(job), args=[job, f"uid-{index}"], id=job.key)
    scheduler.start()
    await asyncio.sleep(0)
    scheduled = time.perf_counter() - start
    kinds = {job.key: job.kind for job in selected}
    result = await _measure(window, ecs, lambda: dict(ecs.calls), lambda: fired[0], kinds)
    scheduler.shutdown(wait=False)
    return {**result, "resume_s": scheduled, "loaded_rss_mib": rss_mib()[0], "rss_before_jobs_mib": rss_before,
            "calls": dict(ecs.calls)}  # fmt: skip


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["ours", "apscheduler"], required=True)
    parser.add_argument("--jobs", type=int, required=True)
    parser.add_argument("--window", type=float, default=60)
    parser.add_argument("--idle", action="store_true")
    args = parser.parse_args()
    run = ours if args.engine == "ours" else apscheduler
    result = asyncio.run(run(args.jobs, args.window, args.idle))
    print(
        json.dumps(
            {"engine": args.engine, "jobs": args.jobs, "idle": args.idle, "window_s": args.window, **result}
        )
    )


if __name__ == "__main__":
    main()
