"""The error domain functions raise when a request breaks a rule; views show its message."""

from __future__ import annotations


class DomainError(ValueError):
    """A rule was broken; `message` is written for the user, `field` names the form field if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
