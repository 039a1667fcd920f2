"""When each job fires next: the timeline of instants, the alarm that wakes the loop, and the
RunTask calls built ahead for the next instant."""

from collections.abc import Callable
from datetime import datetime

from ecs_scheduler.core.timeline import Timeline
from ecs_scheduler.model.job import JobKey
from ecs_scheduler.runtime.alarm import Alarm
from ecs_scheduler.runtime.jobs import JobState


class Timetable:
    def __init__(self) -> None:
        self.timeline: Timeline[JobKey] = Timeline()
        self.wake = Alarm()
        self.prepare: Callable[[JobState, datetime | None], None] = lambda state, instant: None
        """Builds a job's RunTask calls for its next instant ahead (set once the launcher exists)."""

    def set(self, state: JobState, instant: datetime | None) -> None:
        """Plan the job's next fire (None: never) and build its RunTask calls ahead."""
        self.timeline.set(state.key, instant)
        self.prepare(state, instant)
        self.wake.ring()

    def remove(self, key: JobKey) -> None:
        self.timeline.remove(key)
        self.wake.ring()

    def planned(self, key: JobKey) -> datetime | None:
        return self.timeline.planned(key)
