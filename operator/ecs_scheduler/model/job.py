"""The identity of a job as the operator tracks it."""

from typing import NamedTuple


class JobKey(NamedTuple):
    """A job's namespace and name: its stable identity across delete and re-create. A named
    tuple because it is hashed several times per fire (C-level hashing is cheap)."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"
