"""The `ecs-scheduler` command: run the operator, print the CRD, preview a schedule."""

import argparse
import asyncio
import json
import logging
import os
import socket
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from ecs_scheduler import __version__
from ecs_scheduler.core.errors import SpecError
from ecs_scheduler.core.schedule import upcoming
from ecs_scheduler.core.validation import validate_spec
from ecs_scheduler.core.verdict import Judge
from ecs_scheduler.model.config import OperatorConfig, parse_rate_limits
from ecs_scheduler.model.crd import custom_resource_definition, run_request_definition
from ecs_scheduler.model.tenancy import TenantPolicy


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"ECS_SCHEDULER_{name}", default)


def _env_int(name: str, default: int) -> int:
    """ECS_SCHEDULER_<name> as a whole number; unset or empty: `default`."""
    return int(_env(name) or default)


def _env_float(name: str, default: float) -> float:
    """ECS_SCHEDULER_<name> as a number; unset or empty: `default`."""
    return float(_env(name) or default)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ecs-scheduler", description=__doc__)
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the operator")
    run.add_argument(
        "--cluster", default=_env("CLUSTER", "default"), help="default ECS cluster [ECS_SCHEDULER_CLUSTER]"
    )
    run.add_argument(
        "--region", default=_env("REGION", os.environ.get("AWS_REGION")), help="default AWS region"
    )
    run.add_argument(
        "--namespace",
        action="append",
        default=[n for n in (_env("NAMESPACES") or "").split(",") if n],
        help="namespace to watch (repeatable; all when omitted) [ECS_SCHEDULER_NAMESPACES, comma-separated]",
    )
    run.add_argument(
        "--aws-endpoint-url", default=_env("AWS_ENDPOINT_URL"), help="AWS endpoint (for emulators)"
    )
    run.add_argument("--aws-concurrency", type=int, default=_env_int("AWS_CONCURRENCY", 16))
    run.add_argument(
        "--assume-role-duration",
        type=int,
        default=_env_int("ASSUME_ROLE_DURATION", 3600),
        help="seconds a session assumed for a job's role lasts (1200 up to the role's maximum: botocore "
        "refreshes it 15 minutes before it ends) [ECS_SCHEDULER_ASSUME_ROLE_DURATION]",
    )
    run.add_argument(
        "--started-by", default=_env("STARTED_BY", "ecs-scheduler"), help="RunTask startedBy marker"
    )
    run.add_argument("--log-level", default=_env("LOG_LEVEL", "INFO"))
    run.add_argument("--log-json", action="store_true", default=_env("LOG_FORMAT") == "json")
    run.add_argument(
        "--liveness",
        default=_env("LIVENESS"),
        help="kopf liveness endpoint, e.g. http://0.0.0.0:8080/healthz",
    )

    run.add_argument(
        "--metrics-port",
        type=int,
        default=_env_int("METRICS_PORT", 0),
        help="serve Prometheus metrics on this port (0: off) [ECS_SCHEDULER_METRICS_PORT]",
    )

    run.add_argument(
        "--track-interval",
        type=float,
        default=_env_float("TRACK_INTERVAL", 10),
        help="seconds between DescribeTasks sweeps over tasks not yet stopped [ECS_SCHEDULER_TRACK_INTERVAL]",
    )

    run.add_argument(
        "--task-events-queue",
        metavar="URL",
        default=_env("TASK_EVENTS_QUEUE"),
        help="SQS queue URL that an EventBridge rule fills with ECS Task State Change events: runs "
        "are followed from those, DescribeTasks becomes a safety net [ECS_SCHEDULER_TASK_EVENTS_QUEUE]",
    )
    run.add_argument(
        "--task-events-sweep",
        type=float,
        default=_env_float("TASK_EVENTS_SWEEP", 300),
        help="with --task-events-queue: seconds between DescribeTasks sweeps over every task "
        "[ECS_SCHEDULER_TASK_EVENTS_SWEEP]",
    )
    run.add_argument(
        "--task-events-grace",
        type=float,
        default=_env_float("TASK_EVENTS_GRACE", 60),
        help="with --task-events-queue: a task no event has spoken of for this many seconds is "
        "described at once [ECS_SCHEDULER_TASK_EVENTS_GRACE]",
    )
    run.add_argument(
        "--task-events-sns-topics",
        default=_env("TASK_EVENTS_SNS_TOPICS", "") or "",
        help="comma-separated SNS topic ARNs (patterns) whose envelopes on the task events queue are "
        "opened, for EventBridge -> SNS -> SQS without raw message delivery [ECS_SCHEDULER_TASK_EVENTS_SNS_TOPICS]",
    )
    run.add_argument(
        "--webhook-internal-hosts",
        default=_env("WEBHOOK_INTERNAL_HOSTS", "") or "",
        help="comma-separated webhook hosts (patterns) allowed although they resolve to cluster-internal, "
        "private or link-local addresses (refused otherwise) [ECS_SCHEDULER_WEBHOOK_INTERNAL_HOSTS]",
    )
    run.add_argument(
        "--webhook-ca-file",
        default=_env("WEBHOOK_CA_FILE"),
        help="CA bundle that webhook servers are verified with (default: the system's) [ECS_SCHEDULER_WEBHOOK_CA_FILE]",
    )
    run.add_argument(
        "--kube-concurrency",
        type=int,
        default=_env_int("KUBE_CONCURRENCY", 16),
        help="Kubernetes writes (status patches, Events) in flight at once [ECS_SCHEDULER_KUBE_CONCURRENCY]",
    )
    run.add_argument(
        "--status-merge-window",
        type=float,
        default=_env_float("STATUS_MERGE_WINDOW", 60),
        help="seconds: a run that ended well is written with the job's next fire when that comes within "
        "this; 0 writes it at once [ECS_SCHEDULER_STATUS_MERGE_WINDOW]",
    )
    run.add_argument(
        "--event-series-refresh",
        type=float,
        default=_env_float("EVENT_SERIES_REFRESH", 600),
        help="seconds between writes of a repeated Normal event's count [ECS_SCHEDULER_EVENT_SERIES_REFRESH]",
    )
    run.add_argument(
        "--event-rate",
        type=float,
        default=_env_float("EVENT_RATE", 50),
        help="Event writes per second; over it new Normal Events wait (and count) [ECS_SCHEDULER_EVENT_RATE]",
    )
    run.add_argument(
        "--event-burst", type=int, default=_env_int("EVENT_BURST", 100), help="Event writes at once"
    )
    run.add_argument(
        "--ecs-rate-limit",
        action="append",
        metavar="API=RATE/BURST",
        default=[e for e in (_env("ECS_RATE_LIMITS") or "").split(",") if e],
        help="client-side limit of one ECS API per Region, e.g. RunTask=20/50 to leave half of "
        "ECS's default to other clients; repeatable [ECS_SCHEDULER_ECS_RATE_LIMITS, comma-separated]",
    )
    run.add_argument(
        "--leader-election",
        metavar="NAMESPACE/NAME",
        default=_env("LEADER_ELECTION"),
        help="elect one active replica through this Lease (off: always active) [ECS_SCHEDULER_LEADER_ELECTION]",
    )
    run.add_argument(
        "--identity",
        default=_env("IDENTITY", f"{socket.gethostname()}-{os.getpid()}"),
        help="this replica's name in the Lease (the pod name in the chart) [ECS_SCHEDULER_IDENTITY]",
    )
    run.add_argument(
        "--tenant-policy",
        type=Path,
        default=_env("TENANT_POLICY"),
        help="YAML file: clusters, task definition families and roles allowed per namespace [ECS_SCHEDULER_TENANT_POLICY]",
    )
    run.add_argument(
        "--account-id",
        default=_env("ACCOUNT_ID"),
        help="the operator's own AWS account (default: read with STS GetCallerIdentity at start); cluster "
        "and task definition ARNs of other accounts match only whole-ARN tenant patterns [ECS_SCHEDULER_ACCOUNT_ID]",
    )
    run.add_argument(
        "--admission-port",
        type=int,
        default=_env_int("ADMISSION_PORT", 0),
        help="serve the validating admission webhook over HTTPS on this port (0: off); needs "
        "--admission-cert-file and --admission-key-file [ECS_SCHEDULER_ADMISSION_PORT]",
    )
    run.add_argument(
        "--admission-address",
        default=_env("ADMISSION_ADDRESS", "0.0.0.0"),
        help="address the webhook listens on",
    )
    run.add_argument(
        "--admission-cert-file", default=_env("ADMISSION_CERT_FILE"), help="the webhook's certificate (PEM)"
    )
    run.add_argument(
        "--admission-key-file", default=_env("ADMISSION_KEY_FILE"), help="the webhook certificate's key (PEM)"
    )
    run.add_argument("--lease-duration", type=float, default=_env_float("LEASE_DURATION", 15))
    run.add_argument("--lease-retry", type=float, default=_env_float("LEASE_RETRY", 2))

    crd = commands.add_parser("crd", help="print a CustomResourceDefinition generated from the model")
    crd.add_argument(
        "--kind", choices=["job", "run"], default="job", help="ScheduledEcsJob or ScheduledEcsJobRun"
    )

    validate = commands.add_parser(
        "validate", help="check manifests offline as the admission webhook does (for CI); exit 1 on any error"
    )
    _judge_arguments(validate)
    plan = commands.add_parser(
        "plan", help="print a job's next fires and the exact ECS requests it would send"
    )
    _judge_arguments(plan)
    plan.add_argument("-n", type=int, default=5, help="how many fires to list")
    plan.add_argument(
        "--started-by", default=_env("STARTED_BY", "ecs-scheduler"), help="RunTask startedBy marker"
    )
    plan.add_argument(
        "--raw", action="store_true", help="each body exactly as botocore sends it, on one line"
    )

    importing = commands.add_parser(
        "import", help="write a ScheduledEcsJob manifest for every job of a classic ECS Scheduler"
    )
    source = importing.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--from", dest="rest", metavar="URL", help="its REST API, e.g. http://webapi:5000 (gives lastRun)"
    )
    source.add_argument("--sqlite", metavar="FILE", help="its SQLite job store")
    source.add_argument("--s3", metavar="S3_URI", help="its S3 job store, s3://bucket/prefix")
    source.add_argument("--dynamodb", metavar="TABLE", help="its DynamoDB job store")
    importing.add_argument(
        "-o", "--output", type=Path, help="directory for one manifest per job (default: stdout)"
    )
    importing.add_argument("--namespace", help="namespace of the manifests (default: none, kubectl's)")
    importing.add_argument(
        "--suspended", action=argparse.BooleanOptionalAction, default=None,
        help="--suspended: every job suspended (the first step of a cut-over); --no-suspended: none; "
        "default: as each classic job is",
    )  # fmt: skip
    importing.add_argument("--region", default=os.environ.get("AWS_REGION"), help="for --s3 and --dynamodb")
    importing.add_argument(
        "--aws-endpoint-url", default=_env("AWS_ENDPOINT_URL"), help="for --s3 and --dynamodb"
    )
    importing.add_argument("--tenant-policy", type=Path, help="judge the manifests with this tenant policy")
    importing.add_argument(
        "--cluster", default=_env("CLUSTER", "default"), help="the operator's default cluster"
    )

    preview = commands.add_parser("next", help="print the next fire instants of a schedule")
    preview.add_argument("schedule")
    preview.add_argument("--syntax", choices=["Cron", "EcsScheduler"], default="Cron")
    preview.add_argument("--tz", default="UTC")
    preview.add_argument("-n", type=int, default=5)
    preview.add_argument("--identity", default="default/preview", help="namespace/name that seeds H and ?")
    return parser


def _judge_arguments(command: argparse.ArgumentParser) -> None:
    """What a verdict depends on besides the manifest: the operator's defaults and tenant policy."""
    command.add_argument(
        "-f", "--filename", action="append", required=True, metavar="PATH",
        help="a manifest file, a directory of them, or - for standard input (kustomize build | ...); repeatable",
    )  # fmt: skip
    command.add_argument("--namespace", default="default", help="for documents that name none")
    command.add_argument(
        "--tenant-policy", type=Path, help="the operator's tenant policy file (--tenant-policy)"
    )
    command.add_argument("--account-id", help="the operator's AWS account, as tenant patterns read it")
    command.add_argument(
        "--cluster", default=_env("CLUSTER", "default"), help="the operator's default cluster"
    )
    command.add_argument(
        "--region", default=_env("REGION", os.environ.get("AWS_REGION")), help="default region"
    )


def _judge(args: argparse.Namespace) -> Judge:
    from ecs_scheduler.adapters.ecs_model import EcsModel

    return Judge(
        args.cluster, args.region, _tenant_policy(args.tenant_policy), args.account_id, EcsModel().problems
    )


def _validate(args: argparse.Namespace) -> int:
    from ecs_scheduler.tools import manifests, validate

    findings = validate.check(manifests.read(args.filename), _judge(args), namespace=args.namespace,
                              now=datetime.now(UTC))  # fmt: skip
    return validate.report(findings)


def _plan(args: argparse.Namespace) -> int:
    from ecs_scheduler.model import names
    from ecs_scheduler.tools import manifests
    from ecs_scheduler.tools.plan import PlanSettings, plan_lines

    settings = PlanSettings(
        _judge(args), args.namespace, datetime.now(UTC), args.n, args.started_by, args.raw
    )
    failed = False
    for document in manifests.read(args.filename):
        if document.error is not None:
            print(f"{document.where}: {document.error}", file=sys.stderr)
            failed = True
        elif document.kind == names.KIND:
            lines = plan_lines(document, settings)
            failed |= lines[0].startswith(document.where)
            print("\n".join(lines) + "\n")
    return 1 if failed else 0


def _import(args: argparse.Namespace) -> int:
    import boto3

    from ecs_scheduler.adapters.ecs_model import EcsModel
    from ecs_scheduler.tools import classic_sources, import_command

    def client(service: str) -> object:
        return boto3.client(service, region_name=args.region, endpoint_url=args.aws_endpoint_url)

    if args.rest:
        jobs = list(classic_sources.from_rest(args.rest))
    elif args.sqlite:
        jobs = list(classic_sources.from_sqlite(args.sqlite))
    elif args.s3:
        jobs = list(classic_sources.from_s3(args.s3, client("s3")))
    else:
        jobs = list(classic_sources.from_dynamodb(args.dynamodb, client("dynamodb")))
    judge = Judge(args.cluster, args.region, _tenant_policy(args.tenant_policy), None, EcsModel().problems)
    results = import_command.import_jobs(jobs, judge=judge, now=datetime.now(UTC), namespace=args.namespace,
                                         suspended=args.suspended)  # fmt: skip
    import_command.write(results, args.output)
    return 0 if all(r.manifest is not None for r in results) else 1


def crd_yaml(kind: str = "job") -> str:
    definition = run_request_definition() if kind == "run" else custom_resource_definition()
    return yaml.safe_dump(definition, sort_keys=False, width=100)


def _next(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    spec = {
        "taskDefinition": "preview",
        "schedule": args.schedule,
        "scheduleSyntax": args.syntax,
        "timeZone": args.tz,
    }
    try:
        job = validate_spec(spec, identity=args.identity, now=now)
    except SpecError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"# resolved: {job.schedule.resolved()}")
    for instant in upcoming(job.schedule, now, args.n):
        print(instant.isoformat())
    return 0


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {
                "time": self.formatTime(record),
                "level": record.levelname,
                "logger": record.name,
                "message": record.getMessage(),
            }
        )


def _tenant_policy(path: Path | None) -> TenantPolicy | None:
    """Read at start: a policy that does not parse stops the operator with the file's error."""
    if path is None:
        return None
    return TenantPolicy.model_validate(yaml.safe_load(Path(path).read_text()) or {})


def _run(args: argparse.Namespace) -> int:
    import kopf

    import ecs_scheduler.handlers.watch  # registers the handlers

    if args.admission_port:
        import ecs_scheduler.handlers.admission  # noqa: F401  (kopf refuses handlers without a server)

    handler = logging.StreamHandler()
    if args.log_json:
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=args.log_level.upper(), handlers=[handler], force=True)
    # kopf logs every handled watch event at INFO; with thousands of jobs that drowns our own logs.
    if logging.getLogger().level > logging.DEBUG:
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    config = OperatorConfig(
        default_cluster=args.cluster,
        default_region=args.region,
        namespaces=tuple(args.namespace),
        aws_endpoint_url=args.aws_endpoint_url,
        aws_concurrency=args.aws_concurrency,
        assume_role_duration=args.assume_role_duration,
        started_by=args.started_by,
        log_level=args.log_level,
        log_json=args.log_json,
        liveness_endpoint=args.liveness,
        metrics_port=args.metrics_port or None,
        track_interval=args.track_interval,
        task_events_queue=args.task_events_queue or None,
        webhook_internal_hosts=tuple(h.strip() for h in args.webhook_internal_hosts.split(",") if h.strip()),
        webhook_ca_file=args.webhook_ca_file or None,
        task_events_sweep=args.task_events_sweep,
        task_events_grace=args.task_events_grace,
        task_events_sns_topics=tuple(t.strip() for t in args.task_events_sns_topics.split(",") if t.strip()),
        kube_concurrency=args.kube_concurrency,
        status_merge_window=args.status_merge_window,
        event_series_refresh=args.event_series_refresh,
        event_rate=args.event_rate,
        event_burst=args.event_burst,
        ecs_rate_limits=args.ecs_rate_limit,
        leader_election=args.leader_election,
        identity=args.identity,
        lease_duration=args.lease_duration,
        lease_retry=args.lease_retry,
        tenant_policy=_tenant_policy(args.tenant_policy),
        account_id=args.account_id or None,
        admission_port=args.admission_port or None,
        admission_address=args.admission_address,
        admission_cert_file=args.admission_cert_file or None,
        admission_key_file=args.admission_key_file or None,
    )
    stop = asyncio.Event()  # set when leadership is lost: the process exits, a new pod stands by
    with asyncio.Runner() as runner:
        runner.get_loop().set_exception_handler(quiet_kopf_watch_close)
        runner.run(kopf.operator(**kopf_arguments(config, stop)))
    return 0


_KOPF_WATCH_FILE = os.path.join("kopf", "_cogs", "clients", "watching.py")


def quiet_kopf_watch_close(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The loop's exception handler: asyncio's own, except for one kopf shutdown race.

    When a stop cancels kopf's watcher while it hands an event to a worker, kopf leaves that
    namespace's watch-stream generator open; asyncio closes it as the process exits, and kopf's
    cleanup in it raises "generator didn't stop after athrow()". Every handler has finished by
    then and nothing is lost, so it is logged at DEBUG instead of as an ERROR with a traceback
    on an ordinary pod stop. Anything else goes to asyncio's default handler.
    """
    code = getattr(context.get("asyncgen"), "ag_code", None)
    error = context.get("exception")
    if (
        code is not None
        and code.co_name == "infinite_watch"
        and code.co_filename.endswith(_KOPF_WATCH_FILE)
        and isinstance(error, RuntimeError)
        and "didn't stop after athrow" in str(error)
    ):
        logging.getLogger(__name__).debug("kopf's watch stream did not close cleanly at exit: %s", error)
        return
    loop.default_exception_handler(context)


KOPF_WORKERS = 128
KOPF_WORKER_IDLE = 0.01


def kopf_arguments(config: OperatorConfig, stop: asyncio.Event) -> dict[str, Any]:
    """How the operator starts kopf.

    The identity is ours (the pod name in the chart): kopf would otherwise derive one from
    `getpass.getuser()`, which fails under a numeric uid with no passwd entry (the restricted
    Pod Security Standard, OpenShift's random uids). With only plain namespace names, kopf's
    scanning is off: it would first try to list namespaces, which per-namespace RBAC forbids,
    and retry for about a minute before falling back to the names it was given.
    """
    import kopf

    from ecs_scheduler.handlers.diffbase import NoDiffBase

    settings = kopf.OperatorSettings()
    settings.scanning.disabled = config.namespaces_are_names
    settings.persistence.diffbase_storage = NoDiffBase()
    # asyncio has no priorities: a fire's timer runs after every callback already ready. Unbounded,
    # a burst of watch events (mostly our own status writes coming back) readies hundreds of kopf
    # workers at once and delays the next fires by tens of milliseconds; bounded, by about one.
    # A worker keeps its slot while idle, so it leaves at once (kopf's default lingers 5 s).
    settings.queueing.worker_limit = KOPF_WORKERS
    settings.queueing.idle_timeout = KOPF_WORKER_IDLE
    if config.admission_port:
        # The chart owns the ValidatingWebhookConfiguration (managed=None): kopf would otherwise
        # rewrite it from every replica, and need cluster-wide rights to do so.
        settings.admission.server = kopf.WebhookServer(
            addr=config.admission_address,
            port=config.admission_port,
            certfile=config.admission_cert_file,
            pkeyfile=config.admission_key_file,
        )
        settings.admission.managed = None
    return {
        "standalone": True,
        "clusterwide": not config.namespaces,
        "namespaces": kopf_namespace_patterns(config.namespaces),
        "liveness_endpoint": config.liveness_endpoint,
        "identity": config.identity,
        "settings": settings,
        "memo": kopf.Memo(config=config, stop=stop),
        "stop_flag": stop,
    }


def kopf_namespace_patterns(namespaces: Sequence[str]) -> list[str]:
    """Our `--namespace` list (served: matches any inclusive entry and no `!` entry) in kopf's
    pattern language, where list entries are OR-ed and `!` only excludes within one
    comma-separated entry: `["team-*", "!team-legacy"]` would serve every namespace."""
    exclusions = [n for n in namespaces if n.startswith("!")]
    inclusions = [n for n in namespaces if not n.startswith("!")]
    if not exclusions:
        return inclusions
    if not inclusions:
        return [", ".join(exclusions)]  # kopf implies a leading `*`
    return [", ".join([name, *exclusions]) for name in inclusions]


MIN_ROLE_DURATION, MAX_ROLE_DURATION = 1200, 43200


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "run":
        try:
            args.ecs_rate_limit = parse_rate_limits(args.ecs_rate_limit)
        except ValueError as error:
            parser.error(str(error))  # exits 2 with the usage, as for any bad flag
        if not MIN_ROLE_DURATION <= args.assume_role_duration <= MAX_ROLE_DURATION:
            parser.error(
                f"--assume-role-duration must be {MIN_ROLE_DURATION}-{MAX_ROLE_DURATION} seconds: botocore "
                "refreshes a session 15 minutes before it ends, so a shorter one would be refreshed on every call"
            )
        if args.admission_port:
            files = (args.admission_cert_file, args.admission_key_file)
            if not all(files):
                parser.error(
                    "--admission-port needs --admission-cert-file and --admission-key-file (the API server calls it over HTTPS)"
                )
            if absent := [f for f in files if not Path(f).is_file()]:
                parser.error(f"the admission webhook's certificate or key is not there: {', '.join(absent)}")
    if args.command == "crd":
        sys.stdout.write(crd_yaml(args.kind))
        return 0
    if args.command == "next":
        return _next(args)
    if args.command == "import":
        import sqlite3

        import botocore.exceptions

        try:
            return _import(args)
        except (OSError, ValueError, sqlite3.Error, botocore.exceptions.BotoCoreError,
                botocore.exceptions.ClientError) as error:  # an unreachable API, a missing store, bad JSON  # fmt: skip
            print(f"error: {error}", file=sys.stderr)
            return 2
    if args.command in ("validate", "plan"):
        try:
            return _validate(args) if args.command == "validate" else _plan(args)
        except (OSError, ValueError) as error:  # the tenant policy file: unreadable or not a policy
            print(f"error: {error}", file=sys.stderr)
            return 2
    if (missing := _no_kubernetes_credentials()) is not None:
        print(f"error: no Kubernetes credentials: {missing}", file=sys.stderr)
        return 2
    return _run(args)


def _no_kubernetes_credentials() -> str | None:
    """Why the operator could not reach any API server, said once, before kopf would retry it
    every minute with chained tracebacks; None when credentials are there."""
    import kubernetes

    from ecs_scheduler.adapters.kube import load_client_config

    try:
        load_client_config()
    except (kubernetes.config.ConfigException, OSError) as error:
        return (
            "not running in a pod (no service account) and no usable kubeconfig "
            f"(KUBECONFIG or ~/.kube/config): {error}"
        )
    return None


if __name__ == "__main__":
    sys.exit(main())
