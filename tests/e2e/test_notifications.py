"""Run notifications end to end: SNS (read back through a subscribed queue), SQS, HTTPS webhooks
signed with a Secret's key; retries, a restart in the middle, refused internal addresses."""

import base64
import hashlib
import hmac
import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import StartOperator
from tests.e2e.harness import KubeCluster, MotoServer, wait_for
from tests.e2e.reliability import record
from tests.e2e.test_run_lifecycle import ending, history, reasons, soon
from tests.e2e.webhook import WebhookReceiver

pytestmark = pytest.mark.e2e

_receivers = itertools.count(1)
KEY = b"e2e-signing-key"


@pytest.fixture
def receiver(workdir: Path) -> Iterator[WebhookReceiver]:
    running = WebhookReceiver(workdir / f"webhook-{next(_receivers)}")
    yield running
    running.stop()


def secret(kube: KubeCluster, namespace: str) -> dict[str, Any]:
    kube.core.create_namespaced_secret(namespace, {"metadata": {"name": "hook"},
                                                   "data": {"key": base64.b64encode(KEY).decode()}})  # fmt: skip
    return {"name": "hook", "key": "key"}


def webhook_operator(start_operator: StartOperator, receiver: WebhookReceiver) -> Any:
    return start_operator("--webhook-internal-hosts", "127.0.0.1", "--webhook-ca-file", str(receiver.ca_file))


def delivery(kube: KubeCluster, namespace: str, name: str, kind: str) -> dict[str, Any]:
    return next((d for d in kube.status(namespace, name).get("notifications") or [] if d["type"] == kind), {})


def delivered_as(
    kube: KubeCluster, namespace: str, name: str, kind: str, outcome: str, *, timeout: float, what: str
) -> dict[str, Any]:
    """The job's latest delivery to its `kind` target, once status shows it with `outcome`."""
    return wait_for(
        lambda: (found := delivery(kube, namespace, name, kind)).get("outcome") == outcome and found,
        timeout=timeout,
        what=what,
    )


def test_a_failed_run_is_published_sent_and_posted_with_one_event_id(
    kube: KubeCluster,
    moto: MotoServer,
    own_namespace: str,
    start_operator: StartOperator,
    receiver: WebhookReceiver,
) -> None:
    sns, sqs = moto.client("sns"), moto.client("sqs")
    topic = sns.create_topic(Name=f"runs-{own_namespace}")["TopicArn"]
    subscriber = sqs.create_queue(QueueName=f"runs-sub-{own_namespace}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=subscriber, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    successes = sqs.create_queue(QueueName=f"runs-ok-{own_namespace}")["QueueUrl"]
    webhook_operator(start_operator, receiver)
    spec = {"taskDefinition": "sleeper-task", "schedule": soon(), "overrides": ending(exit_code="3"),
            "notifications": [{"sns": {"topicArn": topic}},
                              {"sqs": {"queueUrl": successes}, "outcomes": ["Succeeded"]},
                              {"webhook": {"url": receiver.url, "secretRef": secret(kube, own_namespace)},
                               "outcomes": ["Failed"]}]}  # fmt: skip
    kube.apply_job(own_namespace, "notified", spec)
    (record,) = wait_for(lambda: history(kube, own_namespace, "notified"), timeout=20, what="the failed run")
    wait_for(lambda: receiver.received, timeout=10, what="the webhook call")
    (posted,) = receiver.received
    event = posted.event
    assert event["specversion"] == "1.0" and event["type"] == "dev.ecs-scheduler.run.failed"
    assert event["source"].endswith(f"/namespaces/{own_namespace}/scheduledecsjobs/notified")
    assert event["subject"] == record["scheduledTime"]
    assert (
        event["data"]["reason"] == record["reason"]
        and event["data"]["ecsTasks"][0]["containers"][0]["exitCode"] == 3
    )
    expected = "sha256=" + hmac.new(KEY, posted.body, hashlib.sha256).hexdigest()
    assert posted.headers["X-Ecs-Scheduler-Signature"] == expected
    assert posted.headers["Content-Type"].startswith("application/cloudevents+json")
    published = wait_for(
        lambda: sqs.receive_message(QueueUrl=subscriber).get("Messages"), timeout=10, what="SNS"
    )
    assert published[0]["Body"] == posted.body.decode(), "every target gets the same event"
    assert "Messages" not in sqs.receive_message(QueueUrl=successes), "Succeeded only"
    delivered_as(
        kube, own_namespace, "notified", "sns", "Delivered", timeout=10, what="status shows the SNS delivery"
    )
    status = kube.status(own_namespace, "notified")
    assert {(d["type"], d["outcome"], d["eventId"]) for d in status["notifications"]} == {
        ("sns", "Delivered", event["id"]), ("webhook", "Delivered", event["id"])}  # fmt: skip
    assert status.get("owedNotifications", []) == []


def test_a_failing_webhook_is_retried_and_survives_a_restart(
    kube: KubeCluster, own_namespace: str, start_operator: StartOperator, receiver: WebhookReceiver
) -> None:
    receiver.failures = [503] * 50
    first = webhook_operator(start_operator, receiver)
    spec = {"taskDefinition": "sleeper-task", "schedule": soon(), "overrides": ending(exit_code="1"),
            "notifications": [{"webhook": {"url": receiver.url, "secretRef": secret(kube, own_namespace)}}]}  # fmt: skip
    kube.apply_job(own_namespace, "flaky", spec)
    failed = delivered_as(
        kube, own_namespace, "flaky", "webhook", "Failed", timeout=30, what="a failed attempt"
    )
    assert "HTTP 503" in failed["error"]
    (owed,) = kube.status(own_namespace, "flaky")["owedNotifications"]
    assert owed["attempts"] >= 1 and owed["eventId"] == failed["eventId"]
    first.stop()
    receiver.failures = []
    webhook_operator(start_operator, receiver)  # a new process: only the status remembers what is owed
    delivered_as(
        kube, own_namespace, "flaky", "webhook", "Delivered", timeout=30, what="delivered after the restart"
    )
    ids = {r.event["id"] for r in receiver.received}
    assert ids == {failed["eventId"]}, "every attempt carried the same event id"
    assert len(receiver.received) >= 2
    assert kube.status(own_namespace, "flaky").get("owedNotifications", []) == []


def test_a_webhook_inside_the_cluster_is_refused(
    kube: KubeCluster, namespace: str, receiver: WebhookReceiver
) -> None:
    # The session operator allows no internal webhook host: 127.0.0.1 is refused, never called.
    spec = {"taskDefinition": "sleeper-task", "schedule": soon(), "overrides": ending(exit_code="2"),
            "notifications": [{"webhook": {"url": receiver.url, "secretRef": secret(kube, namespace)}}]}  # fmt: skip
    kube.apply_job(namespace, "internal", spec)
    refused = delivered_as(kube, namespace, "internal", "webhook", "Abandoned", timeout=30, what="refused")
    assert "internal address 127.0.0.1" in refused["error"]
    assert receiver.received == []
    (warning,) = wait_for(
        lambda: reasons(kube, namespace, "internal", "NotificationFailed"), timeout=10, what="event"
    )
    assert warning.type == "Warning" and "refused" in warning.message


def test_a_webhook_that_redirects_inside_is_not_followed(
    kube: KubeCluster,
    workdir: Path,
    own_namespace: str,
    start_operator: StartOperator,
    receiver: WebhookReceiver,
) -> None:
    # The tenant's endpoint (allowed, as a public one would be) bounces to localhost, where the
    # operator must never go: nothing arrives there, status names the redirect, a Warning says it.
    inside = WebhookReceiver(workdir / f"webhook-inside-{own_namespace}")
    try:
        receiver.redirect_to = inside.url.replace("127.0.0.1", "localhost") + "/stolen"
        webhook_operator(start_operator, receiver)
        spec = {"taskDefinition": "sleeper-task", "schedule": soon(), "overrides": ending(exit_code="4"),
                "notifications": [{"webhook": {"url": receiver.url, "secretRef": secret(kube, own_namespace)}}]}  # fmt: skip
        kube.apply_job(own_namespace, "bounced", spec)
        failed = delivered_as(
            kube, own_namespace, "bounced", "webhook", "Failed", timeout=30, what="redirect"
        )
        assert f"HTTP 307 redirect from 127.0.0.1 to {receiver.redirect_to}: not followed" in failed["error"]
        (warning, *_) = wait_for(
            lambda: reasons(kube, own_namespace, "bounced", "NotificationFailed"),
            timeout=10,
            what="a Warning",
        )
        assert warning.type == "Warning" and "redirect" in warning.message
        assert len(receiver.received) >= 1
        assert inside.received == [], "the redirect was followed"
    finally:
        inside.stop()


def test_hanging_webhooks_of_one_namespace_do_not_delay_another(
    kube: KubeCluster,
    workdir: Path,
    own_namespace: str,
    start_operator: StartOperator,
    receiver: WebhookReceiver,
) -> None:
    # Eight jobs whose endpoint accepts and never answers (a dead tenant), then an unrelated job's
    # run ends: its delivery goes within a second of its status write, not after the hung ones.
    other = kube.create_namespace(f"{own_namespace}-other")
    dead = WebhookReceiver(
        workdir / f"webhook-dead-{own_namespace}", hang=threading.Event(), same_ca_as=receiver
    )
    try:
        bundle = workdir / f"webhook-cas-{own_namespace}.pem"
        bundle.write_bytes(receiver.ca_file.read_bytes() + dead.ca_file.read_bytes())
        start_operator(
            "--namespace", other, "--webhook-internal-hosts", "127.0.0.1", "--webhook-ca-file", str(bundle)
        )
        at, ref = soon(seconds=4), secret(kube, own_namespace)
        for index in range(8):
            spec = {"taskDefinition": "sleeper-task", "schedule": at, "overrides": ending(exit_code="1"),
                    "notifications": [{"webhook": {"url": dead.url, "secretRef": ref}}]}  # fmt: skip
            kube.apply_job(own_namespace, f"dead-{index}", spec)
        try:
            wait_for(lambda: len(dead.received) >= 2, timeout=40, what="the dead endpoint holding deliveries")
        except AssertionError as error:
            raise AssertionError(
                f"{error}: {kube.status(own_namespace, 'dead-0').get('notifications')}"
            ) from None
        spec = {"taskDefinition": "sleeper-task", "schedule": soon(seconds=3), "overrides": ending(exit_code="1"),
                "notifications": [{"webhook": {"url": receiver.url, "secretRef": secret(kube, other)}}]}  # fmt: skip
        kube.apply_job(other, "healthy", spec)
        recorded = wait_for(
            lambda: history(kube, other, "healthy") and time.time(), timeout=40, what="the outcome"
        )
        wait_for(lambda: receiver.received, timeout=15, what="the healthy delivery")
        delay = receiver.received[0].at - recorded
        print(f"healthy delivery {delay:.2f} s after its status showed the outcome; "
              f"{len(dead.received)} deliveries hanging at the dead endpoint")  # fmt: skip
        record(f"hanging webhooks of one namespace ({kube.kind})", {
            "hanging_deliveries_held": len(dead.received), "healthy_delivery_after_status_s": round(delay, 2)})  # fmt: skip
        assert delay <= 1.0
    finally:
        dead.stop()
