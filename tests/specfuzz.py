"""Hypothesis strategies for ScheduledEcsJob specs: mostly plausible, often wrong, sometimes junk."""

from typing import Any

from hypothesis import strategies as st

from ecs_scheduler.model.spec import ScheduledEcsJobSpec

FIELDS = sorted(f.alias or name for name, f in ScheduledEcsJobSpec.model_fields.items())

junk = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True), st.text(max_size=20),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)  # fmt: skip

schedules = st.one_of(
    st.sampled_from(["*/5 * * * *", "0 3 * * mon-fri", "@daily", "@every 30s", "rate(5 minutes)", "H H * * *",
                     "0 25 * * *", "61 * * * *", "* * 31 2 *", "@every 0s", "rate(0 minutes)", "at(2030-01-01T00:00:00Z)",
                     "at(yesterday)", "? */5", "0 0 12 ? * * * *", "* * * * * * * * *", "", "   "]),
    st.text(alphabet="0123456789*/,-? HLW#", min_size=1, max_size=20),
)  # fmt: skip

plausible: dict[str, Any] = {
    "taskDefinition": st.one_of(st.sampled_from(["app", "app:3", "arn:aws:ecs:eu-west-1:1:task-definition/app:3"]), st.text(max_size=5)),
    "schedule": schedules,
    "scheduleSyntax": st.sampled_from(["Cron", "EcsScheduler", "Quartz"]),
    "timeZone": st.sampled_from(["UTC", "Europe/Paris", "Asia/Kolkata", "Mars/Olympus", ""]),
    "taskCount": st.integers(-2, 60),
    "maxCount": st.integers(-2, 60),
    "suspended": st.booleans(),
    "launchType": st.sampled_from(["EC2", "FARGATE", "EXTERNAL", "LAMBDA"]),
    "capacityProviderStrategy": st.lists(st.fixed_dictionaries({"capacityProvider": st.sampled_from(["FARGATE_SPOT", ""])}), max_size=2),
    "scheduleStart": st.sampled_from(["2026-01-01T00:00:00Z", "2031-01-01T00:00:00Z", "not a date"]),
    "scheduleEnd": st.sampled_from(["2026-06-01T00:00:00Z", "2030-01-01T00:00:00Z", "soon"]),
    "concurrencyPolicy": st.sampled_from(["Allow", "Forbid", "Replace", "Queue"]),
    "startingDeadlineSeconds": st.integers(-5, 10**6),
    "retryPolicy": st.fixed_dictionaries({}, optional={"maxAttempts": st.integers(-1, 20), "backoffSeconds": st.integers(-1, 5000),
                                                       "retryOn": st.lists(st.sampled_from(["AGENT", "RESOURCE:*", ""]), max_size=3)}),
    "trigger": st.fixed_dictionaries({"type": st.sampled_from(["sqs", "kafka"])},
                                     optional={"queueName": st.sampled_from(["q", ""]), "queueUrl": st.just("https://sqs/q"),
                                               "messagesPerTask": st.integers(-1, 1000), "strategy": st.sampled_from(["Default", "Accurate", "Greedy"])}),
    "overrides": st.fixed_dictionaries({}, optional={"containerOverrides": st.lists(st.fixed_dictionaries(
        {"name": st.sampled_from(["app", ""])}, optional={"environment": st.dictionaries(st.text(max_size=3), st.text(max_size=3000), max_size=4)}), max_size=3),
        "taskRoleArn": st.sampled_from(["arn:aws:iam::1:role/r", ""])}),
}  # fmt: skip


@st.composite
def specs(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 50)) == 0:
        return draw(junk)  # not even an object
    spec: dict[str, Any] = {}
    for name in [
        *draw(st.lists(st.sampled_from(FIELDS), unique=True, max_size=8)),
        "taskDefinition",
        "schedule",
    ]:
        if name in spec or draw(st.integers(0, 12)) == 0:
            continue  # sometimes a required field is missing
        strategy = plausible.get(name)
        spec[name] = draw(junk) if strategy is None or draw(st.integers(0, 6)) == 0 else draw(strategy)
    if draw(st.integers(0, 15)) == 0:
        spec[draw(st.text(min_size=1, max_size=8))] = draw(junk)  # an unknown field
    return spec
