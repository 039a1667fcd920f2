"""A corpus of hostile and careless specs, each with the verdict it must get.

Each case is a patch over a valid base job and one of these verdicts:
- `Refused(field, by)`: the API server refuses it at apply time, naming `field`. `by` says what
  refuses it: "schema" (types, bounds, lengths, patterns: every API server, the project's test
  server included), "cel" (x-kubernetes-validations) or "format" (date-time). A server that does
  not check CEL or formats lets it through, and then the operator must mark it InvalidSpec naming
  the same field (pydantic enforces every rule the CRD carries).
- `Invalid(field)`: accepted at apply; the operator marks it Ready=False/InvalidSpec naming `field`.
- `Valid()`: accepted and scheduled (Ready=True, or Suspended/Finished as the spec says).

Used by tests/unit/test_hostile_specs.py (schema and validation path, offline) and by
tests/e2e/test_hostile_specs.py (a running operator on either API server, with a control job).
"""

from dataclasses import dataclass, field
from typing import Any, Literal

from ecs_scheduler.model.limits import INT32_MAX, MAX_DEADLINE_SECONDS, MAX_USER_TAGS

BASE: dict[str, Any] = {"taskDefinition": "sleeper-task", "schedule": "@every 1h"}
CONTAINER = {"image": "nginx:1.27", "memory": 512}
FARGATE = {**CONTAINER, "requiresCompatibilities": ["FARGATE"], "taskCpu": "256", "taskMemory": "512"}
HUGE = "x" * 10_000
UNICODE = "ジョブ\u202e\u0000é" * 3


@dataclass(frozen=True)
class Refused:
    field: str
    by: Literal["schema", "cel", "format"] = "schema"


@dataclass(frozen=True)
class Invalid:
    field: str


@dataclass(frozen=True)
class Valid:
    reason: str = "Scheduled"


Verdict = Refused | Invalid | Valid


@dataclass(frozen=True)
class Case:
    name: str
    patch: dict[str, Any]
    verdict: Verdict
    job_name: str | None = None
    replace: bool = field(default=False)
    """The patch is the whole spec, not a patch over BASE."""

    def spec(self) -> Any:
        if self.replace:
            return self.patch
        merged = dict(BASE)
        for key, value in self.patch.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        return merged


def _numbers() -> list[Case]:
    """Every integer field at and past each bound, and with the wrong type."""
    table: list[tuple[str, dict[str, Any], int, int]] = [
        ("taskCount", {}, 1, 50),
        ("maxCount", {}, 1, 50),
        ("startingDeadlineSeconds", {}, 1, MAX_DEADLINE_SECONDS),
        ("successfulRunsHistoryLimit", {}, 0, 50),
        ("failedRunsHistoryLimit", {}, 0, 50),
    ]
    cases: list[Case] = []
    for name, extra, low, high in table:
        for value, verdict in (
            (low, Valid()), (high, Valid()), (low - 1, Refused(f"spec.{name}")), (high + 1, Refused(f"spec.{name}")),
            (2**31, Refused(f"spec.{name}")), (1099511627776, Refused(f"spec.{name}")), (-(2**63), Refused(f"spec.{name}")),
            ("5", Refused(f"spec.{name}")), (1.5, Refused(f"spec.{name}")), (True, Refused(f"spec.{name}")),
        ):  # fmt: skip
            cases.append(Case(f"{name}={value!r}", {name: value, **extra}, verdict))
    nested: list[tuple[str, str, dict[str, Any], str, int, int]] = [
        ("retryPolicy.maxAttempts", "retryPolicy", {}, "maxAttempts", 1, 10),
        ("retryPolicy.backoffSeconds", "retryPolicy", {}, "backoffSeconds", 0, 3600),
        ("trigger.messagesPerTask", "trigger", {"type": "sqs", "queueName": "q"}, "messagesPerTask", 1, INT32_MAX),
        ("trigger.activationQueueLength", "trigger", {"type": "sqs", "queueName": "q", "messagesPerTask": 1},
         "activationQueueLength", 0, INT32_MAX),
        ("capacityProviderStrategy[0].weight", "capacityProviderStrategy", {"capacityProvider": "FARGATE"},
         "weight", 0, 1000),
        ("capacityProviderStrategy[0].base", "capacityProviderStrategy", {"capacityProvider": "FARGATE"},
         "base", 0, 100000),
        ("overrides.containerOverrides[0].cpu", "overrides", {"name": "app"}, "cpu", 0, INT32_MAX),
        ("overrides.containerOverrides[0].memory", "overrides", {"name": "app"}, "memory", 0, INT32_MAX),
        ("container.cpu", "container", CONTAINER, "cpu", 0, INT32_MAX),
        ("container.memory", "container", {"image": "nginx"}, "memory", 4, INT32_MAX),
        ("container.ephemeralStorageGib", "container", CONTAINER, "ephemeralStorageGib", 21, 200),
    ]  # fmt: skip
    for path, top, around, name, low, high in nested:
        for value, ok in ((low, True), (high, True), (low - 1, False), (high + 1, False), (2**62, False),
                          ("1", False)):  # fmt: skip
            inner = {**around, name: value}
            patch: dict[str, Any]
            if top == "overrides":
                patch = {"overrides": {"containerOverrides": [inner]}}
            elif top == "capacityProviderStrategy":
                patch = {"capacityProviderStrategy": [inner]}
            elif top == "container":
                patch = {"taskDefinition": None, "container": inner}
            else:
                patch = {top: inner}
            cases.append(Case(f"{path}={value!r}", patch, Valid() if ok else Refused(f"spec.{path}")))
    return cases


_STRINGS: list[tuple[str, dict[str, Any], str, int]] = [
    # (field path, the patch around it, the key, maximum length)
    ("taskDefinition", {}, "taskDefinition", 2048),
    ("cluster", {}, "cluster", 2048),
    ("region", {}, "region", 32),
    ("schedule", {}, "schedule", 256),
    ("timeZone", {}, "timeZone", 64),
    ("group", {}, "group", 255),
    ("platformVersion", {}, "platformVersion", 32),
    ("roleArn", {}, "roleArn", 2048),
    ("container.image", {"container": CONTAINER}, "image", 1024),
    ("container.name", {"container": CONTAINER}, "name", 255),
    ("container.logGroup", {"container": CONTAINER}, "logGroup", 512),
    ("container.taskCpu", {"container": CONTAINER}, "taskCpu", 32),
    ("trigger.queueName", {"trigger": {"type": "sqs", "messagesPerTask": 1}}, "queueName", 85),
    ("trigger.queueUrl", {"trigger": {"type": "sqs", "messagesPerTask": 1}}, "queueUrl", 2048),
    ("trigger.region", {"trigger": {"type": "sqs", "messagesPerTask": 1, "queueName": "q"}}, "region", 32),
    ("overrides.taskRoleArn", {"overrides": {}}, "taskRoleArn", 2048),
    ("overrides.cpu", {"overrides": {}}, "cpu", 255),
    ("overrides.containerOverrides[0].name", {"overrides": {"containerOverrides": [{}]}}, "name", 255),
]


def _set(patch: dict[str, Any], path: str, key: str, value: Any) -> dict[str, Any]:
    """`patch` with `value` at `key` inside the object the dotted `path` names."""
    import copy

    out = copy.deepcopy(patch)
    head = path.split(".")[0].split("[")[0]
    if head == path:
        return {**out, key: value}
    target = out[head]
    if isinstance(target, dict) and "containerOverrides" in target:
        target = target["containerOverrides"][0]
    target[key] = value
    if head == "container":
        out["taskDefinition"] = None
    return out


def _strings() -> list[Case]:
    """Every string field: far too long, unicode, empty, and not a string."""
    cases: list[Case] = []
    for path, around, key, _ in _STRINGS:
        for label, value in (("huge", HUGE), ("unicode", UNICODE), ("empty", ""), ("a number", 7),
                             ("a list", ["x"]), ("an object", {"a": 1})):  # fmt: skip
            # A schedule has no grammar the API server could check: the operator reads it.
            verdict: Verdict = (
                Invalid("spec.schedule")
                if (path, label) == ("schedule", "unicode")
                else Refused(f"spec.{path}")
            )
            cases.append(Case(f"{path} {label}", _set(around, path, key, value), verdict))
    return cases


_SCHEDULES: list[tuple[str, str, Verdict]] = [
    # Cron, near-valid
    ("Cron", "60 * * * *", Invalid("spec.schedule")),
    ("Cron", "* 24 * * *", Invalid("spec.schedule")),
    ("Cron", "* * 0 * *", Invalid("spec.schedule")),
    ("Cron", "* * 32 * *", Invalid("spec.schedule")),
    ("Cron", "* * * 13 *", Invalid("spec.schedule")),
    ("Cron", "* * * * 7", Invalid("spec.schedule")),
    ("Cron", "*/0 * * * *", Invalid("spec.schedule")),
    ("Cron", "5-1 * * * *", Invalid("spec.schedule")),
    ("Cron", "*/99999 * * * *", Invalid("spec.schedule")),
    ("Cron", "99999999999999999999 * * * *", Invalid("spec.schedule")),
    ("Cron", "\u2075 * * * *", Invalid("spec.schedule")),  # superscript five
    ("Cron", "\u0665 * * * *", Invalid("spec.schedule")),  # Arabic-Indic five
    ("Cron", "\uff10 * * * *", Invalid("spec.schedule")),  # full-width zero
    ("Cron", "* * * * * *", Invalid("spec.schedule")),
    ("Cron", "* * * *", Invalid("spec.schedule")),
    ("Cron", "H(5-1) * * * *", Invalid("spec.schedule")),
    ("Cron", "H(0-99) * * * *", Invalid("spec.schedule")),
    ("Cron", "* * 30 2 *", Invalid("spec.schedule")),  # never fires
    ("Cron", "* * 31 4,6,9,11 *", Invalid("spec.schedule")),
    ("Cron", "0 0 29 2 *", Valid()),
    ("Cron", "H H * * *", Valid()),
    ("Cron", "@yearly", Valid()),
    ("Cron", "@fortnightly", Invalid("spec.schedule")),
    ("Cron", "   ", Invalid("spec.schedule")),
    ("Cron", "*\t*\t*\t*\t*", Valid()),
    # Intervals and one-time schedules
    ("Cron", "@every 0s", Invalid("spec.schedule")),
    ("Cron", "@every 1s", Valid()),
    ("Cron", "@every 8784h", Valid()),
    ("Cron", "@every 8785h", Invalid("spec.schedule")),
    ("Cron", "@every 9999999999999999999999h", Invalid("spec.schedule")),
    ("Cron", "@every 5d", Invalid("spec.schedule")),
    ("Cron", "@every -5s", Invalid("spec.schedule")),
    ("Cron", "@every \u0665s", Invalid("spec.schedule")),
    ("Cron", "rate(0 minutes)", Invalid("spec.schedule")),
    ("Cron", "rate(366 days)", Valid()),
    ("Cron", "rate(367 days)", Invalid("spec.schedule")),
    ("Cron", "rate(527041 minutes)", Invalid("spec.schedule")),
    ("Cron", "rate(99999999999999999999 days)", Invalid("spec.schedule")),
    ("Cron", "rate(5 fortnights)", Invalid("spec.schedule")),
    ("Cron", "at(2030-01-01T00:00:00Z)", Valid()),
    ("Cron", "at(9998-12-31T00:00:00Z)", Valid()),
    ("Cron", "at(9999-12-31T23:59:59Z)", Valid()),  # the last instant of the shared horizon
    ("Cron", "at(10000-01-01T00:00:00Z)", Invalid("spec.schedule")),
    ("Cron", "at(0001-01-01T00:00:00Z)", Invalid("spec.schedule")),
    ("Cron", "at(yesterday)", Invalid("spec.schedule")),
    ("Cron", "at(2030-02-30T00:00:00Z)", Invalid("spec.schedule")),
    ("Cron", "at(\uff12\uff10\uff13\uff10-01-01T00:00:00Z)", Invalid("spec.schedule")),
    # The classic EcsScheduler syntax
    ("EcsScheduler", "0 0 0 * * 1 1 2037", Valid()),
    ("EcsScheduler", "0 0 0 * * 1 1 9999", Valid()),
    ("EcsScheduler", "0 0 0 * * 1 1 10000", Invalid("spec.schedule")),
    ("EcsScheduler", "0 0 0 * * 1 1 1969", Invalid("spec.schedule")),
    ("EcsScheduler", "0 0 0 * * 29 2 2101-2103", Invalid("spec.schedule")),  # never fires
    ("EcsScheduler", "0 0 0 * 53 31 2 *", Invalid("spec.schedule")),
    ("EcsScheduler", "0 0 0 * 54", Invalid("spec.schedule")),
    ("EcsScheduler", "0 0 0 ? *", Invalid("spec.schedule")),
    ("EcsScheduler", "? ? ? * * * * *", Valid()),
    ("EcsScheduler", "* * * * * * * * *", Invalid("spec.schedule")),
    ("EcsScheduler", "0 0 0 * * last_fri", Valid()),
    ("EcsScheduler", "0 0 0 * * 6th_fri", Invalid("spec.schedule")),
    ("EcsScheduler", "\u0665 * *", Invalid("spec.schedule")),
    ("EcsScheduler", "0/999999 * *", Invalid("spec.schedule")),
    ("Quartz", "0 0 * * * ?", Refused("spec.scheduleSyntax")),
]


def _schedules() -> list[Case]:
    return [
        Case(f"{syntax} {text!r}", {"schedule": text, "scheduleSyntax": syntax}, verdict)
        for syntax, text, verdict in _SCHEDULES
    ]


def _places() -> list[Case]:
    """Regions, ARNs, names: where calls would go."""
    arn = "arn:aws:ecs:{region}:{account}:{kind}/{name}"
    return [
        Case("region an address", {"region": "169.254.169.254"}, Refused("spec.region")),
        Case("region a host", {"region": "us-east-1.evil.example"}, Refused("spec.region")),
        Case("region upper case", {"region": "US-EAST-1"}, Refused("spec.region")),
        Case("region a path", {"region": "../us-east-1"}, Refused("spec.region")),
        Case("region with NUL", {"region": "us-east-1\u0000"}, Refused("spec.region")),
        Case(
            "region of another partition",
            {
                "region": "us-gov-west-1",
                "cluster": arn.format(
                    region="us-gov-west-1", account="123456789012", kind="cluster", name="c"
                ),
            },
            Valid(),
        ),
        Case(
            "trigger region an address",
            {"trigger": {"type": "sqs", "queueName": "q", "messagesPerTask": 1, "region": "169.254.169.254"}},
            Refused("spec.trigger.region"),
        ),
        Case(
            "trigger region a host",
            {
                "trigger": {
                    "type": "sqs",
                    "queueName": "q",
                    "messagesPerTask": 1,
                    "region": "us-east-1.evil.example",
                }
            },
            Refused("spec.trigger.region"),
        ),
        Case(
            "trigger queue name with a slash",
            {"trigger": {"type": "sqs", "queueName": "../q", "messagesPerTask": 1}},
            Refused("spec.trigger.queueName"),
        ),
        Case(
            "cluster of another account",
            {
                "cluster": arn.format(
                    region="us-east-1", account="999999999999", kind="cluster", name="default"
                )
            },
            Valid(),
        ),
        Case(
            "cluster in another region",
            {
                "cluster": arn.format(
                    region="eu-west-1", account="123456789012", kind="cluster", name="default"
                )
            },
            Invalid("spec.cluster"),
        ),
        Case("cluster a path", {"cluster": "../default"}, Refused("spec.cluster")),
        Case(
            "cluster ARN of another service",
            {"cluster": "arn:aws:iam::123456789012:role/x"},
            Refused("spec.cluster"),
        ),
        Case("task definition a path", {"taskDefinition": "../sleeper-task"}, Refused("spec.taskDefinition")),
        Case("task definition with a revision", {"taskDefinition": "sleeper-task:3"}, Valid()),
        Case(
            "task definition revision not a number",
            {"taskDefinition": "sleeper-task:latest"},
            Refused("spec.taskDefinition"),
        ),
        Case(
            "task definition ARN in another region",
            {
                "taskDefinition": arn.format(
                    region="eu-west-1", account="123456789012", kind="task-definition", name="sleeper-task:1"
                )
            },
            Invalid("spec.taskDefinition"),
        ),
        Case("role ARN short account", {"roleArn": "arn:aws:iam::123:role/x"}, Refused("spec.roleArn")),
        Case("role ARN of a user", {"roleArn": "arn:aws:iam::123456789012:user/x"}, Refused("spec.roleArn")),
        Case(
            "task role not an ARN",
            {"overrides": {"taskRoleArn": "admin"}},
            Refused("spec.overrides.taskRoleArn"),
        ),
        Case(
            "subnet huge",
            {"networkConfiguration": {"awsvpcConfiguration": {"subnets": [HUGE]}}},
            Refused("spec.networkConfiguration.awsvpcConfiguration.subnets[0]"),
        ),
        Case(
            "17 subnets",
            {"networkConfiguration": {"awsvpcConfiguration": {"subnets": ["s"] * 17}}},
            Refused("spec.networkConfiguration.awsvpcConfiguration.subnets"),
        ),
        Case(
            "placement expression huge",
            {"placementConstraints": [{"type": "memberOf", "expression": HUGE}]},
            Refused("spec.placementConstraints[0].expression"),
        ),
        Case(
            "11 placement constraints",
            {"placementConstraints": [{"type": "distinctInstance"}] * 11},
            Refused("spec.placementConstraints"),
        ),
        Case(
            "21 capacity providers",
            {"capacityProviderStrategy": [{"capacityProvider": "FARGATE"}] * 21},
            Refused("spec.capacityProviderStrategy"),
        ),
        Case("launch type unknown", {"launchType": "LAMBDA"}, Refused("spec.launchType")),
        Case("propagate tags SERVICE", {"propagateTags": "SERVICE"}, Refused("spec.propagateTags")),
        Case("time zone unknown", {"timeZone": "Mars/Olympus"}, Invalid("spec.timeZone")),
        Case("time zone a path", {"timeZone": "../../etc/passwd"}, Refused("spec.timeZone")),
        Case("time zone Paris", {"timeZone": "Europe/Paris"}, Valid()),
        Case("time zone with offset", {"timeZone": "Etc/GMT+5"}, Valid()),
    ]


def _tags() -> list[Case]:
    def tags(count: int, key: str = "k", value: str = "v") -> dict[str, Any]:
        return {"tags": {f"{key}{i}": value for i in range(count)}}

    return [
        Case(f"{MAX_USER_TAGS} tags", tags(MAX_USER_TAGS), Valid()),
        Case(f"{MAX_USER_TAGS + 1} tags", tags(MAX_USER_TAGS + 1), Refused("spec.tags")),
        Case("60 tags", tags(60), Refused("spec.tags")),
        Case("tag key 128", {"tags": {"k" * 128: "v"}}, Valid()),
        Case("tag key 129", {"tags": {"k" * 129: "v"}}, Refused("spec.tags", by="cel")),
        Case("tag value 256", {"tags": {"k": "v" * 256}}, Valid()),
        Case("tag value 257", {"tags": {"k": "v" * 257}}, Refused("spec.tags")),
        Case("tag key aws:", {"tags": {"aws:created-by": "me"}}, Refused("spec.tags", by="cel")),
        Case("tag key AWS: upper", {"tags": {"AWS:x": "me"}}, Refused("spec.tags", by="cel")),
        Case("tag key with !", {"tags": {"team!": "a"}}, Invalid("spec.tags")),
        Case("tag value with NUL", {"tags": {"team": "a\u0000b"}}, Invalid("spec.tags")),
        Case("tag value unicode letters", {"tags": {"team": "équipe ジョブ"}}, Valid()),
        Case("tag value a number", {"tags": {"team": 5}}, Refused("spec.tags")),
        Case("tags a list", {"tags": ["a"]}, Refused("spec.tags")),
        Case("operator's own tag key", {"tags": {"ecs-scheduler.dev/job": "other/job"}}, Valid()),
    ]


def _containers() -> list[Case]:
    def container(**fields: Any) -> dict[str, Any]:
        merged = {**CONTAINER, **fields}
        return {"taskDefinition": None, "container": {k: v for k, v in merged.items() if v is not None}}

    def fargate(**fields: Any) -> dict[str, Any]:
        merged = {**FARGATE, **fields}
        return {"taskDefinition": None, "container": {k: v for k, v in merged.items() if v is not None}}

    return [
        Case("container", container(), Valid()),
        Case(
            "image with ..",
            container(image="registry.example/team/../evil:1"),
            Refused("spec.container.image"),
        ),
        Case("image upper-case path", container(image="Team/App"), Refused("spec.container.image")),
        Case("image with a space", container(image="nginx latest"), Refused("spec.container.image")),
        Case("image digest too short", container(image="nginx@sha256:ab"), Refused("spec.container.image")),
        Case("image by digest", container(image="nginx@sha256:" + "a" * 64), Valid()),
        Case("image with registry port", container(image="registry.example:5000/team/app:1.2"), Valid()),
        Case(
            "windows 2099",
            container(runtimePlatform={"operatingSystemFamily": "WINDOWS_SERVER_2099_FULL"}),
            Invalid("spec.container.runtimePlatform.operatingSystemFamily"),
        ),
        Case(
            "windows 2022",
            container(runtimePlatform={"operatingSystemFamily": "WINDOWS_SERVER_2022_FULL"}),
            Valid(),
        ),
        Case(
            "os lower case",
            container(runtimePlatform={"operatingSystemFamily": "linux"}),
            Refused("spec.container.runtimePlatform.operatingSystemFamily"),
        ),
        Case("cpu 2^62", container(cpu=2**62), Refused("spec.container.cpu")),
        Case("memory 2^31", container(memory=2**31), Refused("spec.container.memory")),
        Case("memory 3", container(memory=3), Refused("spec.container.memory")),
        Case(
            "no memory",
            {"taskDefinition": None, "container": {"image": "nginx"}},
            Refused("spec.container", by="cel"),
        ),
        Case("fargate", fargate(), Valid()),
        Case("fargate 256 cpu with 4 GB", fargate(taskMemory="4096"), Invalid("spec.container.taskMemory")),
        Case("fargate 1 vCPU 2 GB", fargate(taskCpu="1 vCPU", taskMemory="2 GB"), Valid()),
        Case("fargate 3 vCPU", fargate(taskCpu="3072", taskMemory="8192"), Invalid("spec.container.taskCpu")),
        Case("fargate without task cpu", fargate(taskCpu=None), Refused("spec.container", by="cel")),
        Case(
            "fargate bridge network",
            fargate(networkMode="bridge"),
            Refused("spec.container.networkMode", by="cel"),
        ),
        Case(
            "secrets without execution role",
            container(secrets={"A": "arn:aws:ssm:us-east-1:123456789012:parameter/a"}),
            Refused("spec.container.executionRoleArn", by="cel"),
        ),
        Case(
            "201 environment variables",
            container(environment={f"V{i}": "x" for i in range(201)}),
            Refused("spec.container.environment"),
        ),
        Case(
            "environment value huge",
            container(environment={"A": HUGE}),
            Refused("spec.container.environment"),
        ),
        Case("101 command arguments", container(command=["x"] * 101), Refused("spec.container.command")),
        Case("log group with a space", container(logGroup="my logs"), Refused("spec.container.logGroup")),
        Case("log group", container(logGroup="/ecs/team"), Valid()),
        Case("container name with a dot", container(name="app.v1"), Refused("spec.container.name")),
        Case("both taskDefinition and container", {"container": CONTAINER}, Refused("spec", by="cel")),
        Case("neither taskDefinition nor container", {"taskDefinition": None}, Refused("spec", by="cel")),
    ]


def _overrides() -> list[Case]:
    env = {f"V{i}": "x" * 100 for i in range(90)}
    return [
        Case("overrides of 9,000 characters", {"overrides": {"containerOverrides": [{"name": "app", "environment": env}]}},
             Invalid("spec.overrides")),
        Case("11 container overrides", {"overrides": {"containerOverrides": [{"name": f"c{i}"} for i in range(11)]}},
             Refused("spec.overrides.containerOverrides")),
        Case("override cpu 2^40", {"overrides": {"containerOverrides": [{"name": "app", "cpu": 2**40}]}},
             Refused("spec.overrides.containerOverrides[0].cpu")),
        Case("fargate overrides mismatched", {"launchType": "FARGATE", "overrides": {"cpu": "256", "memory": "8192"}},
             Invalid("spec.overrides.memory")),
        Case("fargate overrides", {"launchType": "FARGATE", "overrides": {"cpu": "512", "memory": "1024"}}, Valid()),
        Case("override name empty", {"overrides": {"containerOverrides": [{"name": ""}]}},
             Refused("spec.overrides.containerOverrides[0].name")),
    ]  # fmt: skip


def _notifications() -> list[Case]:
    webhook = {"url": "https://hooks.example.com/x", "secretRef": {"name": "s", "key": "k"}}
    return [
        Case("webhook", {"notifications": [{"webhook": webhook}]}, Valid()),
        Case("webhook over http", {"notifications": [{"webhook": {**webhook, "url": "http://hooks.example.com"}}]},
             Refused("spec.notifications[0].webhook.url")),
        Case("webhook url huge", {"notifications": [{"webhook": {**webhook, "url": "https://h.example/" + HUGE}}]},
             Refused("spec.notifications[0].webhook.url")),
        Case("two kinds in one target", {"notifications": [{"webhook": webhook, "sns": {
             "topicArn": "arn:aws:sns:us-east-1:123456789012:t"}}]}, Refused("spec.notifications[0]", by="cel")),
        Case("11 targets", {"notifications": [{"webhook": webhook}] * 11}, Refused("spec.notifications")),
        Case("sqs region an address", {"notifications": [{"sqs": {"queueUrl": "https://sqs.us-east-1.amazonaws.com/1/q",
             "region": "169.254.169.254"}}]}, Refused("spec.notifications[0].sqs.region")),
        Case("sns topic of a user", {"notifications": [{"sns": {"topicArn": "arn:aws:iam::123456789012:user/x"}}]},
             Refused("spec.notifications[0].sns.topicArn")),
        Case("unknown outcome", {"notifications": [{"webhook": webhook, "outcomes": ["Exploded"]}]},
             Refused("spec.notifications[0].outcomes[0]")),
    ]  # fmt: skip


def _combinations() -> list[Case]:
    return [
        Case("maxCount below taskCount", {"taskCount": 5, "maxCount": 2}, Refused("spec.maxCount", by="cel")),
        Case(
            "launchType and capacity providers",
            {"launchType": "FARGATE", "capacityProviderStrategy": [{"capacityProvider": "FARGATE"}]},
            Refused("spec.capacityProviderStrategy", by="cel"),
        ),
        Case(
            "trigger with both queue forms",
            {
                "trigger": {
                    "type": "sqs",
                    "queueName": "q",
                    "queueUrl": "https://sqs.us-east-1.amazonaws.com/1/q",
                    "messagesPerTask": 1,
                }
            },
            Refused("spec.trigger", by="cel"),
        ),
        Case(
            "trigger kafka",
            {"trigger": {"type": "kafka", "queueName": "q", "messagesPerTask": 1}},
            Refused("spec.trigger.type"),
        ),
        Case(
            "end before start",
            {"scheduleStart": "2030-01-01T00:00:00Z", "scheduleEnd": "2029-01-01T00:00:00Z"},
            Refused("spec.scheduleEnd", by="cel"),
        ),
        Case("start in the year 1", {"scheduleStart": "0001-01-01T00:00:00Z"}, Invalid("spec.scheduleStart")),
        Case("end in the year 9999", {"scheduleEnd": "9999-12-31T23:59:59Z"}, Invalid("spec.scheduleEnd")),
        Case(
            "start without an offset",
            {"scheduleStart": "2030-01-01T00:00:00"},
            Refused("spec.scheduleStart", by="format"),
        ),
        Case("start not a date", {"scheduleStart": "soon"}, Refused("spec.scheduleStart", by="format")),
        Case("end passed", {"scheduleEnd": "2020-01-01T00:00:00Z"}, Valid("Finished")),
        Case("suspended", {"suspended": True}, Valid("Suspended")),
        Case("suspended a string", {"suspended": "yes"}, Refused("spec.suspended")),
        Case("concurrency Queue", {"concurrencyPolicy": "Queue"}, Refused("spec.concurrencyPolicy")),
        Case("retryOn empty", {"retryPolicy": {"retryOn": []}}, Refused("spec.retryPolicy.retryOn")),
        Case(
            "retryOn item huge", {"retryPolicy": {"retryOn": [HUGE]}}, Refused("spec.retryPolicy.retryOn[0]")
        ),
        Case("spec a list", ["a"], Refused("spec"), replace=True),
        Case("spec a string", "x", Refused("spec"), replace=True),
        Case("schedule missing", {"schedule": None}, Refused("spec.schedule")),
        Case("the longest name", {}, Valid(), job_name="n" * 253),
        Case("a long dotted name", {}, Valid(), job_name=("a" * 60 + ".") * 4 + "z" * 9),
    ]


CASES: list[Case] = [
    *_numbers(), *_strings(), *_schedules(), *_places(), *_tags(), *_containers(), *_overrides(),
    *_notifications(), *_combinations(),
]  # fmt: skip
