"""What views share: running a domain action and showing its error where it belongs."""

from __future__ import annotations

from flask import flash

from .domain import DomainError


def show_error(form, error: DomainError) -> None:
    """Put a domain error on the form field it names, or flash it when it names none."""
    field = getattr(form, error.field or "", None)
    if field is None:
        flash(error.message, "error")
    else:
        field.errors = [*field.errors, error.message]
