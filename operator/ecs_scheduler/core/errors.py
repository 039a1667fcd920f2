"""Errors the core raises for input it cannot accept."""


class SpecError(ValueError):
    """A spec value that cannot be used; `field` is its dotted path in the resource, for users."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
