"""No diff base: kopf's change detection is not used, so its per-event deep copy is skipped.

kopf builds an "essence" of every object on every watch event (a deep copy of the whole body,
managedFields included) to diff it against the last handled one, for on.create/on.update/on.field
handlers. This operator registers only low-level on.event handlers (a test keeps it so), which
never read that diff; building it was about 60 % of kopf's processing of each event, and most
events are the operator's own status writes.
"""

from typing import Any

import kopf


class NoDiffBase(kopf.DiffBaseStorage):
    def build(self, *, body: Any, extra_fields: Any = None) -> Any:
        return {}

    def fetch(self, *, body: Any) -> Any:
        return {}

    def store(self, *, body: Any, patch: Any, essence: Any) -> None:
        pass
