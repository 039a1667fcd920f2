"""`ecs-scheduler validate`: the admission webhook's checks, offline, for CI.

Each ScheduledEcsJob is judged by the same `Judge` the webhook and the Ready condition use, so a
manifest this passes is one the cluster accepts and schedules (given the same tenant policy and
defaults). ScheduledEcsJobRuns get their schema checks. Other kinds are skipped.
"""

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

from pydantic import ValidationError

from ecs_scheduler.core.validation import spec_error_of
from ecs_scheduler.core.verdict import Judge
from ecs_scheduler.model import names
from ecs_scheduler.model.run_request import ScheduledEcsJobRunSpec
from ecs_scheduler.tools.manifests import Document

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
MAX_NAME = 253


@dataclass
class Findings:
    """What a check found: `file:doc: field: message` lines, and how many of each kind it read."""

    errors: list[str] = field(default_factory=list)
    jobs: int = 0
    runs: int = 0
    skipped: int = 0

    def summary(self) -> str:
        verdict = f"{len(self.errors)} error(s)" if self.errors else "no errors"
        return f"{self.jobs} job(s), {self.runs} run(s) checked, {self.skipped} other document(s) skipped: {verdict}"


def _name_error(metadata: dict[str, Any]) -> str | None:
    name = metadata.get("name")
    if not name:
        return None if metadata.get("generateName") else "metadata.name: Required value"
    if len(str(name)) > MAX_NAME or not _SUBDOMAIN.match(str(name)):
        return (
            "metadata.name: must be a lowercase RFC 1123 subdomain (a-z, 0-9, '-' and '.', "
            f"starting and ending alphanumeric, at most {MAX_NAME} characters)"
        )
    return None


def judge_document(document: Document, judge: Judge, *, namespace: str, now: datetime) -> str | None:
    """The first thing wrong with one document, as `field: message`; None when it is fine."""
    if document.error is not None:
        return document.error
    body = document.body
    metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    if (problem := _name_error(metadata)) is not None:
        return problem
    if document.kind == names.RUN_KIND:
        try:
            ScheduledEcsJobRunSpec.model_validate(body.get("spec"))
        except ValidationError as error:
            return str(spec_error_of(error))
        return None
    name = str(metadata.get("name") or metadata.get("generateName") or "")
    verdict = judge(
        body.get("spec"), namespace=str(metadata.get("namespace") or namespace), name=name, now=now
    )
    return verdict.message or None


def check(documents: Iterable[Document], judge: Judge, *, namespace: str, now: datetime) -> Findings:
    findings = Findings()
    for document in documents:
        if document.error is None and document.kind not in (names.KIND, names.RUN_KIND):
            findings.skipped += 1
            continue
        if document.kind == names.RUN_KIND:
            findings.runs += 1
        else:
            findings.jobs += 1
        problem = judge_document(document, judge, namespace=namespace, now=now)
        if problem is not None:
            findings.errors.append(f"{document.where}: {problem}")
    return findings


def report(findings: Findings, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Print the findings; the exit code: 1 when anything is wrong."""
    out, err = out or sys.stdout, err or sys.stderr
    for line in findings.errors:
        print(line, file=out)
    print(findings.summary(), file=err)
    return 1 if findings.errors else 0
