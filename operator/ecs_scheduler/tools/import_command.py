"""The flow of `ecs-scheduler import`: read classic jobs, convert each, judge it, write manifests and a report."""

import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from ecs_scheduler.core.verdict import Judge
from ecs_scheduler.tools.classic_import import Imported, convert

REPORT_FILE = "import-report.txt"


def import_jobs(
    jobs: Iterable[dict[str, Any]],
    *,
    judge: Judge,
    now: datetime,
    namespace: str | None,
    suspended: bool | None,
) -> list[Imported]:
    """Every job converted, in id order (so names are stable), each judged as the webhook would."""
    taken: set[str] = set()
    results = []
    for job in sorted(jobs, key=lambda j: str(j.get("id", ""))):
        result = convert(job, taken=taken, namespace=namespace, suspended=suspended)
        if result.manifest is not None:
            metadata = result.manifest["metadata"]
            verdict = judge(
                result.manifest["spec"], namespace=namespace or "default", name=metadata["name"], now=now
            )
            if verdict.error is not None:
                result.refused, result.manifest = f"would be refused: {verdict.message}", None
        results.append(result)
    return results


def report(results: list[Imported]) -> str:
    imported = [r for r in results if r.manifest is not None]
    lines = [f"imported {len(imported)} of {len(results)} classic job(s)"]
    for result in imported:
        assert result.manifest is not None
        name = result.manifest["metadata"]["name"]
        lines.append(
            f"  {result.classic_id} -> {name}" + (f": {'; '.join(result.notes)}" if result.notes else "")
        )
    refused = [r for r in results if r.manifest is None]
    if refused:
        lines.append("not imported:")
        lines += [f"  {r.classic_id or '(no id)'}: {r.refused}" for r in refused]
    return "\n".join(lines) + "\n"


def write(results: list[Imported], out: Path | None) -> None:
    """One `<name>.yaml` per job and the report into `out`; without it, all to standard output."""
    manifests = [r.manifest for r in results if r.manifest is not None]
    text = report(results)
    if out is None:
        sys.stdout.write(yaml.safe_dump_all(manifests, sort_keys=False))
        sys.stderr.write(text)
        return
    out.mkdir(parents=True, exist_ok=True)
    for manifest in manifests:
        (out / f"{manifest['metadata']['name']}.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    (out / REPORT_FILE).write_text(text)
    sys.stderr.write(text)
