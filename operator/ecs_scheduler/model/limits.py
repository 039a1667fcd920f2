"""Every bound and grammar a spec value must satisfy, in one place, each with its reason.

They go into the generated CRD (maximum, maxLength, maxItems, maxProperties, pattern), so the API
server refuses most hostile input at apply time; pydantic enforces the same for objects that
reached the cluster before the CRD carried them. Patterns are written in the common subset of
Python's `re` and Go's RE2 (the API server's), ASCII only.
"""

from typing import Annotated

from pydantic import StringConstraints

INT32_MAX = 2**31 - 1
"""ECS's integer members (cpu, memory, counts) are 32-bit."""

MAX_DEADLINE_SECONDS = 366 * 86400
"""startingDeadlineSeconds: a deadline longer than a year is no deadline; the bound keeps
`instant + deadline` inside the calendar."""

MAX_INTERVAL_SECONDS = 366 * 86400
"""`@every` and `rate()`: at most a year (EventBridge's rate() has no longer use either); the bound
keeps every interval instant inside the calendar and every number a machine integer."""

MAX_DURATION_DIGITS = 9
"""Digits in one number of a duration or rate: more cannot be within MAX_INTERVAL_SECONDS."""

LAST_YEAR = 9999
"""The last year any syntax can name (APScheduler's maximum, and Python's); `at()` and the
EcsScheduler year field share it, and a schedule's search for its next instant ends there."""

FIRST_YEAR = 1970
"""scheduleStart/scheduleEnd and `at()` before this are refused: intervals are anchored at the
Unix epoch, and no run can start in the past anyway."""

MAX_USER_TAGS = 48
"""ECS allows 50 tags per task; the operator adds two of its own (job and scheduled instant)."""

TAG_KEY_CHARS = 128
TAG_VALUE_CHARS = 256
"""ECS's limits on a tag's key and value."""

RESERVED_TAG_PREFIX = "aws:"
"""ECS refuses tag keys starting with aws: in any case (reserved for AWS)."""

MAX_ENV_VARS = 200
MAX_ARGS = 100
ARG_CHARS = 8192
ENV_NAME_CHARS = 255
ENV_VALUE_CHARS = 8192
"""Environment and command sizes: far above real use, well below the API server's 3 MiB request
limit; the 8,192-character overrides limit of RunTask applies to overrides on top."""

REGION = r"^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$"
"""AWS Region codes: us-east-1, us-gov-west-1, cn-north-1, eusc-de-east-1. A dot, a slash or an
address is not a Region: botocore would build a hostname from it."""

REGION_CHARS = 32

CLUSTER_NAME = r"[A-Za-z0-9_-]{1,255}"
ACCOUNT = r"[0-9]{12}"
PARTITION = r"aws[a-z-]{0,16}"
CLUSTER = rf"^({CLUSTER_NAME}|arn:{PARTITION}:ecs:[a-z0-9-]{{1,32}}:{ACCOUNT}:cluster/{CLUSTER_NAME})$"
"""An ECS cluster: its name (1-255 letters, digits, hyphens, underscores) or its ARN."""

FAMILY = r"[A-Za-z0-9_-]{1,255}"
TASK_DEFINITION = (
    rf"^({FAMILY}(:[0-9]{{1,9}})?|arn:{PARTITION}:ecs:[a-z0-9-]{{1,32}}:{ACCOUNT}:task-definition/"
    rf"{FAMILY}(:[0-9]{{1,9}})?)$"
)
"""A task definition: family, family:revision or ARN, by ECS's grammar of family names."""

ROLE_ARN = rf"^arn:{PARTITION}:iam::{ACCOUNT}:role/[A-Za-z0-9+=,.@_/-]{{1,512}}$"

_COMPONENT = r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*"
_DOMAIN_PART = r"([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
IMAGE_REFERENCE = (
    rf"^({_DOMAIN_PART}(\.{_DOMAIN_PART})*(:[0-9]{{1,5}})?/)?{_COMPONENT}(/{_COMPONENT})*"
    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@[a-z0-9]+([+._-][a-z0-9]+)*:[0-9a-fA-F]{32,})?$"
)
"""An image reference by the distribution grammar (registry[:port]/path[:tag][@digest]): path
components are lower-case words joined by '.', '_', '__' or dashes, so '..' is no reference."""

IMAGE_CHARS = 1024

CONTAINER_NAME = r"^[A-Za-z0-9_-]{1,255}$"
TIME_ZONE = r"^[A-Za-z0-9_+-]{1,32}(/[A-Za-z0-9_+-]{1,32}){0,3}$"
"""IANA zone names: at most three slashes, no dots (the longest real name has 32 characters)."""

TIME_ZONE_CHARS = 64
LOG_GROUP = r"^[A-Za-z0-9._/#-]{1,512}$"
"""CloudWatch Logs group names."""

QUEUE_NAME = r"^[A-Za-z0-9_-]{1,80}(\.fifo)?$"
"""SQS queue names: 1-80 letters, digits, hyphens and underscores, '.fifo' for FIFO queues."""

TASK_SIZE = r"^[0-9]{1,6}(\.[0-9]{1,3})? ?([vV][cC][pP][uU]|[gG][bB])?$"
"""Task-level CPU or memory as ECS reads them: units or MiB ('1024'), or '1 vCPU' / '2 GB'."""

PRINTABLE = r"^[^\x00-\x1f\x7f]{1,255}$"
"""Free text ECS keeps (a task group): any characters but control characters."""

URL_CHARS = 2048
ARN_CHARS = 2048
SHORT_CHARS = 255
"""Free-form names ECS keeps (group, capacity provider, placement field): 255 characters."""

Region = Annotated[str, StringConstraints(pattern=REGION, max_length=REGION_CHARS)]
RoleArn = Annotated[str, StringConstraints(pattern=ROLE_ARN, max_length=ARN_CHARS)]
ContainerName = Annotated[str, StringConstraints(pattern=CONTAINER_NAME)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=SHORT_CHARS)]
TaskSize = Annotated[str, StringConstraints(pattern=TASK_SIZE, max_length=32)]
Arg = Annotated[str, StringConstraints(max_length=ARG_CHARS)]
EnvName = Annotated[str, StringConstraints(min_length=1, max_length=ENV_NAME_CHARS)]
EnvValue = Annotated[str, StringConstraints(max_length=ENV_VALUE_CHARS)]
TagKey = Annotated[str, StringConstraints(min_length=1, max_length=TAG_KEY_CHARS)]
TagValue = Annotated[str, StringConstraints(max_length=TAG_VALUE_CHARS)]
