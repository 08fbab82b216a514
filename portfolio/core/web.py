"""What views share: running a domain action and showing its error where it belongs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar, cast

from flask import flash

from ..extensions import db
from .domain import DomainError

T = TypeVar("T")

# Shows an error meant for part of a field (one criterion's own box) and returns True, or returns
# False to leave the error to the usual placement.
PartHook = Callable[[Any, DomainError], bool]


class Refused:
    """What `attempt` returns when the action broke a rule: false, so the view shows the form again
    or redirects; `flashed` says whether the message was flashed (not put on the form, nor kept
    for the view to show)."""

    __slots__ = ("error", "flashed")

    def __init__(self, error: DomainError, flashed: bool) -> None:
        self.error = error
        self.flashed = flashed

    def __bool__(self) -> Literal[False]:
        return False


def attempt(
    action: Callable[[], T],
    success: str | Callable[[T], str] | None = None,
    *,
    form=None,
    default: str | None = None,
    aliases: Mapping[str, str] | None = None,
    part: PartHook | None = None,
    keep_on_error: bool = False,
    quiet: bool = False,
) -> T | Refused:
    """Run `action` (a domain change) in the request's transaction.

    It succeeded: commit, flash `success` (a message, or made from the action's result), and
    return the result (True when the action returns None, so that the view can test it).
    It raised DomainError: roll back (or commit, with `keep_on_error`, for what must count even so,
    like a wrong password in the throttle), show the error as `show_error` does (unless `quiet`: the
    view shows `Refused.error` itself), and return Refused.
    """
    try:
        result = action()
    except DomainError as error:
        if keep_on_error:
            db.session.commit()
        else:
            db.session.rollback()
        if quiet:
            return Refused(error, flashed=False)
        return Refused(error, flashed=not show_error(form, error, default=default, aliases=aliases, part=part))
    db.session.commit()
    if success is not None:
        flash(success if isinstance(success, str) else success(result), "success")
    # An action that returns nothing succeeded too: the view tests the outcome, so make it true.
    return cast(T, True) if result is None else result


def show_error(
    form,
    error: DomainError,
    *,
    default: str | None = None,
    aliases: Mapping[str, str] | None = None,
    part: PartHook | None = None,
) -> bool:
    """Put a domain error on the form field it names (by its name in `aliases` if there), else on
    the `default` field, else flash it; True if it went on the form. `part` may take it first."""
    if form is None:
        flash(error.message, "error")
        return False
    if part is not None and part(form, error):
        return True
    name = error.field and (aliases or {}).get(error.field, error.field)
    field = form._fields.get(name) if name else None
    if field is None and default is not None:
        field = form[default]
    if field is None:
        flash(error.message, "error")
        return False
    field.errors = [*field.errors, error.message]
    return True


def criteria_error(form, error: DomainError) -> bool:
    """A part hook for forms whose `criteria` field links criteria: an error on the links, or on
    one criterion's justification (`justification_K1`, shown in that criterion's box too), goes on it."""
    name = error.field or ""
    if name.startswith("justification_"):
        form.criteria.code_errors[name.removeprefix("justification_")] = error.message
    elif name != "links":
        return False
    form.criteria.errors = [*form.criteria.errors, error.message]
    return True
