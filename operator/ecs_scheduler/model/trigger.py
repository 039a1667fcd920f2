"""What a trigger source measured: the boundary type between trigger adapters and the core."""

from dataclasses import dataclass


@dataclass(frozen=True)
class QueueDepth:
    """SQS's approximate counts for one queue at one check."""

    visible: int
    in_flight: int = 0
    delayed: int = 0


class TriggerFailure(Exception):
    """The source could not be measured (missing queue, access denied, throttled)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
