"""Turn a resource's raw spec into a job the scheduler can run, or an error naming the field.

This is the one validation path: the operator, `ecs-scheduler next` and the tests all use it.
"""

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from ecs_scheduler.core.arns import region_mismatch
from ecs_scheduler.core.errors import SpecError
from ecs_scheduler.core.requests import RequestCheck, request_error
from ecs_scheduler.core.schedule import Schedule, build_schedule
from ecs_scheduler.model.spec import ScheduledEcsJobSpec


@dataclass(frozen=True)
class ValidJob:
    """A spec that passed every check, with its schedule built."""

    spec: ScheduledEcsJobSpec
    schedule: Schedule
    checked_at: datetime | None = None
    next_after_check: datetime | None = None
    """The schedule's next instant after `checked_at`, when validation computed it anyway."""

    def next_after(self, now: datetime) -> datetime | None:
        """The schedule's next instant after `now`; computed once per `now`."""
        if self.checked_at is not None and now == self.checked_at:
            return self.next_after_check
        return self.schedule.next_after(now)


_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _field_path(location: tuple[int | str, ...]) -> str:
    # A key that is not a plain name (an empty one, one holding a dot) is quoted in brackets:
    # `spec..` would not say which field is wrong, `spec["."]` does.
    path = "spec"
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _PLAIN_NAME.fullmatch(part):
            path += f".{part}"
        else:
            path += f"[{json.dumps(part)}]"
    return path


def spec_error_of(error: ValidationError) -> SpecError:
    detail = error.errors(include_url=False)[0]
    message = str(detail["msg"]).removeprefix("Value error, ")
    return SpecError(_field_path(tuple(detail["loc"])), message)


def validate_spec(
    raw: Any,
    *,
    identity: str,
    now: datetime,
    check: RequestCheck | None = None,
    default_cluster: str = "default",
    default_region: str | None = None,
) -> ValidJob:
    """Validate a raw spec mapping. Raises SpecError naming the first bad field.

    `check` is ECS's model (adapters.ecs_model): with it, the job's requests are checked as ECS
    would check them at launch."""
    if not isinstance(raw, dict):
        raise SpecError("spec", "must be an object")
    try:
        spec = ScheduledEcsJobSpec.model_validate(raw)
    except ValidationError as error:
        raise spec_error_of(error) from None
    region = spec.region or default_region
    if (mismatch := region_mismatch(spec, region)) is not None:
        raise mismatch
    schedule = build_schedule(spec, identity=identity)
    if (
        refused := request_error(spec, check=check, default_cluster=default_cluster, region=region)
    ) is not None:
        raise refused
    # A calendar that matches no date (30 February) would sit silently forever; say so.
    window_open = spec.schedule_start is None and (spec.schedule_end is None or spec.schedule_end > now)
    if not window_open or spec.schedule.startswith("at("):
        return ValidJob(spec, schedule)
    upcoming = schedule.next_after(now)
    if upcoming is None:
        raise SpecError("spec.schedule", "never fires (no date up to the year 9999 matches it)")
    return ValidJob(spec, schedule, checked_at=now, next_after_check=upcoming)
