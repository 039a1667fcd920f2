"""Where a job tells others that a run ended: SNS topics, SQS queues and HTTPS webhooks."""

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from ecs_scheduler.model import limits
from ecs_scheduler.model.base import ApiModel
from ecs_scheduler.model.limits import Region

NotifyOutcome = Literal["Succeeded", "Failed", "Unknown", "Missed", "Skipped", "Replaced", "LaunchFailed"]
DEFAULT_OUTCOMES: tuple[NotifyOutcome, ...] = ("Failed", "Unknown", "Missed", "LaunchFailed")
MAX_TARGETS = 10

TopicArn = Annotated[
    str,
    StringConstraints(pattern=r"^arn:aws[a-z-]{0,16}:sns:[a-z0-9-]{1,32}:[0-9]{12}:[A-Za-z0-9_.-]{1,256}$"),
]
HttpsUrl = Annotated[str, StringConstraints(pattern=r"^https://[^\s/?#]+(/[^\s]*)?$", max_length=2048)]


class SnsTarget(ApiModel):
    """Publish to an SNS topic (in the topic's region, with the job's credentials)."""

    topic_arn: TopicArn = Field(
        description="ARN of the topic. FIFO topics (.fifo) get the job as message group."
    )


class SqsTarget(ApiModel):
    """Send to an SQS queue (with the job's credentials)."""

    queue_url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=limits.URL_CHARS)] = (
        Field(description="URL of the queue.")
    )
    region: Region | None = Field(
        default=None, description="Region of the queue. Defaults to the job's region."
    )


class SecretKeyRef(ApiModel):
    """A key of a Secret in the job's namespace."""

    name: str = Field(min_length=1, max_length=253, description="Name of the Secret.")
    key: str = Field(min_length=1, max_length=253, description="Key within the Secret.")


class WebhookTarget(ApiModel):
    """POST the event to an HTTPS endpoint, signed with HMAC-SHA256 (header X-Ecs-Scheduler-Signature:
    sha256=<hex of HMAC(key, body)>)."""

    url: HttpsUrl = Field(description="https:// URL to POST to.")
    secret_ref: SecretKeyRef = Field(description="Secret key whose value signs the body.")

    @property
    def host(self) -> str:
        """The URL's host, without port or credentials ('[::1]' loses its brackets)."""
        authority = self.url.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
        if authority.startswith("["):
            return authority[1:].split("]", 1)[0]
        return authority.split(":", 1)[0]


class NotificationTarget(ApiModel):
    """One place to tell when a run ends with one of `outcomes`. Exactly one of sns, sqs, webhook."""

    outcomes: list[NotifyOutcome] = Field(
        default_factory=lambda: list(DEFAULT_OUTCOMES),
        min_length=1,
        max_length=7,
        description="Outcomes that are sent: Succeeded, Failed, Unknown, Missed, Skipped, Replaced, "
        "LaunchFailed. Defaults to Failed, Unknown, Missed and LaunchFailed.",
    )
    sns: SnsTarget | None = Field(default=None, description="An SNS topic.")
    sqs: SqsTarget | None = Field(default=None, description="An SQS queue.")
    webhook: WebhookTarget | None = Field(default=None, description="An HTTPS webhook.")

    @model_validator(mode="after")
    def _one_kind(self) -> "NotificationTarget":
        if sum(target is not None for target in (self.sns, self.sqs, self.webhook)) != 1:
            raise ValueError("exactly one of sns, sqs and webhook must be set")
        return self

    @property
    def kind(self) -> Literal["sns", "sqs", "webhook"]:
        return "sns" if self.sns else "sqs" if self.sqs else "webhook"

    @property
    def address(self) -> str:
        """What status calls this target: the topic ARN, the queue URL or the webhook URL."""
        if self.sns:
            return self.sns.topic_arn
        if self.sqs:
            return self.sqs.queue_url
        assert self.webhook is not None
        return self.webhook.url


NOTIFICATION_CEL_RULES = (
    {
        "rule": "(has(self.sns) ? 1 : 0) + (has(self.sqs) ? 1 : 0) + (has(self.webhook) ? 1 : 0) == 1",
        "message": "exactly one of sns, sqs and webhook must be set",
    },
)
