"""What one status merge patch costs: CPU of kube-apiserver and etcd per patch, and of the client.

The full-path figures (bench/fullpath.py) are bound by this number, so it is measured on its
own: `count` jobs created, each given an operator-like status, then patched again and again,
16 in flight as the operator's writers are, with the request options a client could choose:

- `operator`: the patch the operator sends after a fire (merge patch, JSON answer)
- `ignore-unknown-fields`: the same with `?fieldValidation=Ignore` (no unknown-field check)
- `metadata-only-answer`: the same, answered as PartialObjectMetadata (no full object encoded)
- `one-field`: only `estimatedNextRun` changes (the smallest patch that says anything)

Variants are interleaved over `rounds` rounds and the median per variant is reported: the
machine is shared and the API server's garbage collector makes single rounds noisy.

    KUBEBUILDER_ASSETS=<dir with kube-apiserver and etcd> python -m bench.patch_cost --out docs
"""

import argparse
import asyncio
import itertools
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.e2e.harness import GROUP, PLURAL, VERSION, KubeCluster

from bench.fullpath import CpuMeter, create_jobs
from bench.workload import Job, jobs
from ecs_scheduler.adapters.kubehttp import MERGE_PATCH, KubeHttp

METADATA_ONLY = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
VARIANTS: dict[str, tuple[str, str, bool]] = {
    # name: (query, Accept, whole status)
    "operator": ("", "application/json", True),
    "ignore-unknown-fields": ("?fieldValidation=Ignore", "application/json", True),
    "metadata-only-answer": ("", METADATA_ONLY, True),
    "one-field": ("", "application/json", False),
}


def fire_status(serial: int, *, whole: bool) -> dict[str, Any]:
    """A status like the operator's after a fire: one run in flight, three in history."""
    instant = f"2026-11-23T10:{serial % 60:02d}:{serial // 60 % 60:02d}Z"
    if not whole:
        return {"estimatedNextRun": instant}
    task = {"taskArn": f"arn:aws:ecs:us-east-1:123456789012:task/bench/{serial:032x}",
            "lastStatus": "PROVISIONING", "containers": [{"name": "main"}]}  # fmt: skip
    history = [{"scheduledTime": f"2026-11-23T09:0{m}:00Z", "origin": "Schedule", "attempt": 1,
                "outcome": "Succeeded", "tasks": 1, "reason": "", "finishedTime": f"2026-11-23T09:0{m}:20Z"}
               for m in range(3)]  # fmt: skip
    return {
        "lastRun": instant, "lastScheduleTime": instant, "lastSuccessfulRun": instant, "estimatedNextRun": instant,
        "lastRunTasks": [task], "history": history, "observedGeneration": 1, "resolvedSchedule": "0 * * * * *",
        "active": [{"scheduledTime": instant, "origin": "Schedule", "attempt": 1, "tokenAttempt": 1,
                    "region": "us-east-1", "cluster": "bench", "taskArns": [task["taskArn"]]}],
        "conditions": [{"type": "Ready", "status": "True", "reason": "Scheduled", "message": f"next run at {instant}",
                        "lastTransitionTime": "2026-11-23T09:00:00Z", "observedGeneration": 1}],
    }  # fmt: skip


async def patch_all(http: KubeHttp, workload: list[Job], variant: str, serial: int) -> float:
    """Patch every job once with `variant`, 16 in flight; the answer size in bytes, on average."""
    query, accept, whole = VARIANTS[variant]
    slots = asyncio.Semaphore(16)

    async def one(job: Job) -> int:
        path = f"/apis/{GROUP}/{VERSION}/namespaces/{job.namespace}/{PLURAL}/{job.name}/status{query}"
        async with slots:
            answer = await http.request(
                "PATCH", path, content_type=MERGE_PATCH, body={"status": fire_status(serial, whole=whole)},
                accept=accept,
            )  # fmt: skip
            if answer.status != 200:
                raise RuntimeError(f"{variant}: {answer.status} {answer.message()}")
            return len(answer.body)

    sizes = await asyncio.gather(*(one(job) for job in workload))
    return sum(sizes) / len(sizes)


async def measure(kube: KubeCluster, workload: list[Job], rounds: int) -> dict[str, Any]:
    http = KubeHttp(kube.api_client.configuration, concurrency=16, user_agent="ecs-scheduler-bench")
    samples: dict[str, list[dict[str, float]]] = {variant: [] for variant in VARIANTS}
    serials = itertools.count(1)  # every patch changes the status: no round is a no-op
    try:
        await patch_all(http, workload, "operator", 0)  # every job gets its whole status first
        for _ in range(rounds):
            for variant in VARIANTS:
                meter, started = CpuMeter(kube), time.perf_counter()
                answer_bytes = await patch_all(http, workload, variant, next(serials))
                wall = time.perf_counter() - started
                # CPU ms per patch of each server process (kube-apiserver and etcd, or the test
                # server) and of this process, which only runs the operator's client meanwhile
                cpu = {f"{'client' if name == 'benchmark' else name}_ms": 10 * share * wall / len(workload)
                       for name, share in meter.read().items()}  # fmt: skip
                samples[variant].append(
                    {**cpu, "patches_per_s": len(workload) / wall, "answer_bytes": answer_bytes}
                )
    finally:
        await http.close()
    server = f"{kube.processes[-1].name}_ms"  # the API server starts last (after etcd)
    return {
        variant: {key: round(statistics.median(s[key] for s in rows), 2) for key in rows[0]}
        | {"api_server_ms_rounds": [round(s[server], 2) for s in rows]}
        for variant, rows in samples.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("docs"))
    args = parser.parse_args()
    kube = KubeCluster(Path(tempfile.mkdtemp(prefix="patch-cost-")))
    try:
        create_jobs(kube, args.jobs)
        result = {"api_server": kube.kind, "jobs": args.jobs, "rounds": args.rounds,
                  "per_patch": asyncio.run(measure(kube, jobs(args.jobs), args.rounds))}  # fmt: skip
    finally:
        kube.stop()
    print(json.dumps(result, indent=1))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"bench-patch-cost-{result['api_server']}.json").write_text(
        json.dumps(result, indent=1) + "\n"
    )


if __name__ == "__main__":
    main()
