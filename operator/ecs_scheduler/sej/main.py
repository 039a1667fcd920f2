"""kubectl-sej: run, backfill, read the logs and the history of a ScheduledEcsJob.

Exit codes a script can rely on:
  0  done (for --wait: the run succeeded)
  1  the run failed
  2  wrong usage, or the job or run does not exist, or the request was refused
  3  --wait timed out (the run goes on)
  4  the Kubernetes or AWS API failed
"""

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import botocore.exceptions
import kubernetes

from ecs_scheduler.core.errors import SpecError
from ecs_scheduler.core.on_demand import backfill_instants
from ecs_scheduler.core.schedule import upcoming
from ecs_scheduler.core.validation import ValidJob, validate_spec
from ecs_scheduler.model.run_request import Backfill
from ecs_scheduler.sej.kube import Kube, NotFound
from ecs_scheduler.sej.logs import locations_in_run, locations_of_tasks, only_container, print_logs
from ecs_scheduler.sej.table import table

OK, RUN_FAILED, USAGE, TIMED_OUT, API_FAILED = 0, 1, 2, 3, 4


class Refused(Exception):
    """What the user asked cannot be done (said as it is, exit code 2)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kubectl sej", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("-n", "--namespace", help="the namespace (default: the context's)")
    parser.add_argument("--context", help="the kubeconfig context to use")
    parser.add_argument("--kubeconfig", help="path to the kubeconfig (default: KUBECONFIG, ~/.kube/config)")
    commands = parser.add_subparsers(dest="verb", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run a job now, with this run's environment and command")
    run.add_argument("job")
    run.add_argument(
        "--env", action="append", default=[], metavar="K=V", help="an environment variable (repeatable)"
    )
    run.add_argument(
        "--container", help="the container --env and --command are for (default: the job's only one)"
    )
    run.add_argument("--task-count", type=int, help="tasks to start (default: the job's)")
    run.add_argument(
        "--command",
        dest="run_command",
        nargs=argparse.REMAINDER,
        help="the command, and everything after it as its arguments",
    )
    _waiting(run)

    backfill = commands.add_parser("backfill", help="run the job's scheduled instants in a past range")
    backfill.add_argument("job")
    backfill.add_argument("--from", dest="start", required=True, help="first instant considered (RFC 3339)")
    backfill.add_argument("--to", dest="end", required=True, help="last instant considered (RFC 3339)")
    backfill.add_argument("--parallelism", type=int, default=1, help="instants whose tasks may run at once")
    backfill.add_argument("--force", action="store_true", help="run instants the job's history has too")
    backfill.add_argument("--dry-run", action="store_true", help="list the instants; create nothing")
    _waiting(backfill)

    logs = commands.add_parser("logs", help="print the CloudWatch Logs of a run's tasks")
    logs.add_argument("job")
    which = logs.add_mutually_exclusive_group()
    which.add_argument("--run", help="a ScheduledEcsJobRun of the job")
    which.add_argument("--last", action="store_true", help="the job's last run (the default)")
    logs.add_argument("--container", "-c", help="only this container")
    logs.add_argument("--follow", "-f", action="store_true", help="keep printing until the tasks stop")

    history = commands.add_parser("history", help="the job's finished runs and its runs on demand")
    history.add_argument("job")
    upcoming_ = commands.add_parser("next", help="the job's next scheduled instants")
    upcoming_.add_argument("job")
    upcoming_.add_argument("-n", type=int, default=5, help="how many")
    for name, text in (("suspend", "stop the job's schedule"), ("resume", "start the job's schedule again")):
        commands.add_parser(name, help=f"{text} (sets spec.suspended)").add_argument("job")
    return parser


def _waiting(command: argparse.ArgumentParser) -> None:
    command.add_argument("--wait", action="store_true", help="wait for the run's end and print its outcome")
    command.add_argument("--timeout", type=float, default=3600, help="seconds --wait waits (default 3600)")


def _print(text: str) -> None:
    sys.stdout.write(text)


def main(argv: list[str] | None = None, *, out: Callable[[str], None] = _print) -> int:
    args = _parser().parse_args(argv)
    try:
        kube = Kube(kubeconfig=args.kubeconfig, context=args.context, namespace=args.namespace)
        return int(COMMANDS[args.verb](kube, args, out))
    except (NotFound, Refused, SpecError) as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE
    except kubernetes.client.ApiException as error:
        print(f"error: the API server answered {error.status}: {error.reason}", file=sys.stderr)
        return USAGE if error.status in (403, 422) else API_FAILED
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as error:
        print(f"error: AWS: {error}", file=sys.stderr)
        return API_FAILED


def _valid_job(kube: Kube, name: str) -> tuple[dict[str, Any], ValidJob]:
    job = kube.job(name)
    return job, validate_spec(job.get("spec"), identity=f"{kube.namespace}/{name}", now=datetime.now(UTC))


def _run(kube: Kube, args: argparse.Namespace, out: Callable[[str], None]) -> int:
    job = kube.job(args.job)
    overrides: dict[str, Any] = {}
    if args.env:
        pairs = [pair.split("=", 1) for pair in args.env]
        if any(len(pair) != 2 or not pair[0] for pair in pairs):
            raise Refused("--env takes K=V")
        overrides["environment"] = dict(pairs)
    if args.run_command:
        overrides["command"] = list(args.run_command)
    if args.container:
        overrides["container"] = args.container
    elif overrides:
        only = only_container(job.get("spec") or {})
        if only is not None:
            overrides["container"] = only
    spec: dict[str, Any] = {"overrides": overrides} if overrides else {}
    if args.task_count is not None:
        spec["taskCount"] = args.task_count
    return _create_and_maybe_wait(kube, args, spec, out)


def _backfill(kube: Kube, args: argparse.Namespace, out: Callable[[str], None]) -> int:
    _, job = _valid_job(kube, args.job)
    try:
        backfill = Backfill.model_validate({"from": args.start, "to": args.end, "parallelism": args.parallelism,
                                            "force": args.force})  # fmt: skip
    except ValueError as error:
        raise Refused(str(error).splitlines()[-1].strip()) from None
    instants = backfill_instants(job.schedule, backfill)
    if args.dry_run:
        for instant in instants:
            out(instant.isoformat() + "\n")
        out(f"# {len(instants)} instant(s); nothing created (--dry-run)\n")
        return OK
    spec = {"backfill": backfill.model_dump(mode="json", by_alias=True)}
    return _create_and_maybe_wait(kube, args, spec, out)


def _create_and_maybe_wait(
    kube: Kube, args: argparse.Namespace, spec: dict[str, Any], out: Callable[[str], None]
) -> int:
    created = kube.create_run(args.job, spec)
    name = created["metadata"]["name"]
    out(f"scheduledecsjobrun.ecs-scheduler.dev/{name} created\n")
    if not args.wait:
        return OK
    ended = kube.wait_for_end(name, args.timeout)
    if ended is None:
        print(f"error: {name} did not finish within {args.timeout:.0f} s (it goes on)", file=sys.stderr)
        return TIMED_OUT
    status = ended["status"]
    out(table(["Name", "Phase", "Total", "Succeeded", "Failed", "Skipped"],
              [[name, status["phase"], status.get("total", 0), status.get("succeeded", 0), status.get("failed", 0),
                status.get("skipped", 0)]]))  # fmt: skip
    for condition in status.get("conditions") or []:
        out(f"{condition['reason']}: {condition.get('message', '')}\n")
    return OK if status["phase"] == "Succeeded" else RUN_FAILED


def _logs(kube: Kube, args: argparse.Namespace, out: Callable[[str], None]) -> int:
    job = kube.job(args.job)
    if args.run:
        run = kube.run(args.run)
        if (run.get("spec") or {}).get("jobName") != args.job:
            raise Refused(f"{args.run} is a run of {run['spec'].get('jobName')}, not of {args.job}")
        locations = locations_in_run(run)

        def finished() -> bool:
            return (kube.run(args.run).get("status") or {}).get("phase") in ("Succeeded", "Failed")
    else:
        tasks = [t["taskArn"] for t in (job.get("status") or {}).get("lastRunTasks") or []]
        if not tasks:
            raise Refused(f"{args.job} has no last run")
        locations = locations_of_tasks(tasks)

        def finished() -> bool:
            last = (kube.job(args.job).get("status") or {}).get("lastRunTasks") or []
            return all(t.get("lastStatus") in ("STOPPED", "UNKNOWN") for t in last)

    if not locations:
        raise Refused("no log location is known for that run (yet)")
    unreadable = print_logs(
        locations, container=args.container, follow=args.follow, finished=finished, write=out
    )
    for location in locations:
        if location.get("note") and (args.container is None or location["container"] == args.container):
            print(
                f"note: {location['container']} ({location['taskId'][:8]}): {location['note']}",
                file=sys.stderr,
            )
    return OK if unreadable < len(locations) else USAGE


def _history(kube: Kube, args: argparse.Namespace, out: Callable[[str], None]) -> int:
    status = kube.job(args.job).get("status") or {}
    rows = [[e.get("scheduledTime"), e.get("origin", "Schedule"), e.get("request", ""), e.get("attempt", 1),
             e.get("outcome"), e.get("tasks", 0), e.get("reason", "")] for e in status.get("history") or []]  # fmt: skip
    out(table(["Scheduled", "Origin", "Run", "Attempt", "Outcome", "Tasks", "Reason"], rows))
    runs = kube.runs_of(args.job)
    if runs:
        out("\n" + table(["Run", "Phase", "Total", "Succeeded", "Failed", "Skipped", "Created"], [
            [r["metadata"]["name"], (r.get("status") or {}).get("phase", "Pending"), (r.get("status") or {}).get("total", 0),
             (r.get("status") or {}).get("succeeded", 0), (r.get("status") or {}).get("failed", 0),
             (r.get("status") or {}).get("skipped", 0), r["metadata"].get("creationTimestamp")] for r in runs]))  # fmt: skip
    return OK


def _next(kube: Kube, args: argparse.Namespace, out: Callable[[str], None]) -> int:
    raw, job = _valid_job(kube, args.job)
    if (raw.get("spec") or {}).get("suspended"):
        out(f"# {args.job} is suspended: these instants run only once it is resumed\n")
    now = datetime.now(UTC)
    for instant in upcoming(job.schedule, now, args.n):
        out(instant.isoformat() + "\n")
    return OK


def _suspend(kube: Kube, args: argparse.Namespace, out: Callable[[str], None]) -> int:
    kube.set_suspended(args.job, True)
    out(f"scheduledecsjob.ecs-scheduler.dev/{args.job} suspended\n")
    return OK


def _resume(kube: Kube, args: argparse.Namespace, out: Callable[[str], None]) -> int:
    kube.set_suspended(args.job, False)
    out(f"scheduledecsjob.ecs-scheduler.dev/{args.job} resumed\n")
    return OK


COMMANDS: dict[str, Callable[[Kube, argparse.Namespace, Callable[[str], None]], int]] = {
    "run": _run, "backfill": _backfill, "logs": _logs, "history": _history, "next": _next,
    "suspend": _suspend, "resume": _resume,
}  # fmt: skip
