"""The identity of a job as the operator tracks it."""

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class JobKey:
    """A job's namespace and name: its stable identity across delete and re-create."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"
