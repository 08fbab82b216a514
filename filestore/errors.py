"""The one error type the evidence package raises for an upload it will not keep."""

from __future__ import annotations

from typing import Literal

Reason = Literal["too_large", "empty", "not_allowed", "mismatch", "bad_name", "too_many_pixels", "unreadable"]


class UploadRejected(Exception):
    """An upload refused for what it is, not for a fault of ours.

    `reason` is a short code for programs and tests; `message` is plain words fit to show the
    person who sent the file, so a form can display it as it stands.
    """

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason: Reason = reason
        self.message = message
