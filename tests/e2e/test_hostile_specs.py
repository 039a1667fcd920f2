"""The hostile-spec corpus applied, patched in and deleted on a running operator, on either API
server, while a control job in another namespace must launch every one of its instants.

Verdicts (tests/hostile.py): refused at apply naming the field; or accepted and marked
Ready=False/InvalidSpec naming the field within 2 s; or accepted and scheduled within 2 s. A
server without CEL or format checks (the project's test server) lets those cases through, and
then the operator must name the field instead.
"""

import re
import time
from typing import Any

import kubernetes
import pytest

from tests.e2e.awsproxy import AwsProxy
from tests.e2e.harness import GROUP, PLURAL, VERSION, KubeCluster, Operator
from tests.e2e.reliability import record
from tests.e2e.watching import Conditions, assert_every_instant, start_control_job
from tests.hostile import BASE, CASES, Case, Refused, Valid

pytestmark = pytest.mark.e2e
WITHIN = 2.0
CONTROL_EVERY = 2


def dotted(path: str) -> str:
    return re.sub(r"\[(\d+)\]", r".\1", path).replace('"', "")


def check_condition(case: Case, ready: dict[str, Any], *, field_refused: bool) -> None:
    verdict = case.verdict
    if isinstance(verdict, Valid):
        assert ready["reason"] == verdict.reason, (case.name, ready)
        return
    assert (ready["status"], ready["reason"]) == ("False", "InvalidSpec"), (case.name, ready)
    named = dotted(ready["message"].split(":", 1)[0])
    wanted = dotted(verdict.field)
    if field_refused:  # a rule the server did not check: the operator names the field or its object
        assert named.startswith(wanted) or wanted.startswith(named), (case.name, ready)
    else:
        assert named.startswith(wanted), (case.name, ready)


def test_hostile_specs_never_stop_another_job(
    kube: KubeCluster, aws: AwsProxy, operator: Operator, namespace: str
) -> None:
    control, started = start_control_job(kube, aws, namespace, every=CONTROL_EVERY)

    with Conditions(kube, namespace) as conditions:
        # 1. Apply the corpus.
        applied: dict[str, tuple[Case, float]] = {}
        refused = 0
        for index, case in enumerate(CASES):
            name = case.job_name or f"h-{index}"
            try:
                kube.apply_job(namespace, name, case.spec())
            except kubernetes.client.ApiException as error:
                assert isinstance(case.verdict, Refused), (case.name, error.body)
                assert error.status == 422, (case.name, error.status, error.body)
                if case.verdict.field != "spec":
                    assert dotted(case.verdict.field) in dotted(error.body), (case.name, error.body)
                refused += 1
                continue
            applied[name] = (case, time.time())
            assert not (isinstance(case.verdict, Refused) and case.verdict.by == "schema"), (
                f"{case.name} accepted"
            )
            if kube.kind == "kube-apiserver":
                assert not (isinstance(case.verdict, Refused) and case.verdict.by == "cel"), (
                    f"{case.name} accepted"
                )
        conditions.wait({(name, 1) for name in applied}, timeout=30)
        late = {}
        for name, (case, applied_at) in applied.items():
            assert (name, 1) in conditions.seen, f"{case.name}: no Ready condition"
            seen_at, ready = conditions.seen[(name, 1)]
            check_condition(case, ready, field_refused=isinstance(case.verdict, Refused))
            if seen_at - applied_at > WITHIN:
                late[case.name] = round(seen_at - applied_at, 2)
        assert not late, f"Ready later than {WITHIN} s: {late}"

        # 2. Patch valid, scheduled jobs into every accepted hostile spec.
        hostile = [c for c, _ in applied.values() if not isinstance(c.verdict, Valid) and not c.job_name]
        targets = [f"p-{index}" for index in range(len(hostile))]
        for target in targets:
            kube.apply_job(namespace, target, BASE)
        conditions.wait({(target, 1) for target in targets}, timeout=30)
        patched: dict[str, tuple[Case, float, int]] = {}
        for target, case in zip(targets, hostile, strict=True):
            body = {"spec": {**{k: None for k in BASE}, **case.spec()}}
            answer = kube.custom.patch_namespaced_custom_object(
                GROUP, VERSION, namespace, PLURAL, target, body
            )
            patched[target] = (case, time.time(), answer["metadata"]["generation"])
        conditions.wait({(t, generation) for t, (_, _, generation) in patched.items()}, timeout=30)
        for target, (case, patched_at, generation) in patched.items():
            assert (target, generation) in conditions.seen, f"patched {case.name}: no Ready condition"
            seen_at, ready = conditions.seen[(target, generation)]
            check_condition(case, ready, field_refused=isinstance(case.verdict, Refused))
            if seen_at - patched_at > WITHIN:
                late[case.name] = round(seen_at - patched_at, 2)
        assert not late, f"Ready later than {WITHIN} s after a patch: {late}"

    # 3. Delete everything; the control job goes on.
    for name in [*applied, *patched]:
        kube.delete_job(namespace, name)
    time.sleep(2 * CONTROL_EVERY + 1)
    ended = time.time()

    window = assert_every_instant(aws, control, every=CONTROL_EVERY, since=started, until=ended)
    assert operator.process.alive()
    record(f"hostile specs ({kube.kind})", {"cases": len(CASES), "refused_at_apply": refused,
                                             "applied": len(applied), "patched": len(patched),
                                             "control_instants": window})  # fmt: skip
