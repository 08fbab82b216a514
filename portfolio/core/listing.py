"""Reading list parameters (search text, page number) safely from the query string."""

from __future__ import annotations

from flask import current_app, request
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from ..extensions import db
from .text import clean_line

LAST_PAGE = 10_000  # far beyond any real list; keeps OFFSET within what databases accept
LARGEST_ID = 2**63 - 1  # a BIGINT's largest: beyond it the databases refuse the number itself


def search_text(name: str = "q", max_length: int = 100) -> str:
    """A search box's text, cleaned as one-line texts are stored (portfolio.text)."""
    return clean_line(request.args.get(name, ""))[:max_length]


def id_arg(name: str) -> int | None:
    """A record's id from the query string, or None for anything that cannot be one."""
    value = request.args.get(name, type=int)
    return value if value is not None and 0 < value <= LARGEST_ID else None


def choice_arg(name: str, enum_class):
    """An enum member chosen in the query string (a filter select), or None for anything else."""
    value = request.args.get(name, "")
    return next((member for member in enum_class if member.value == value), None)


def paginate(statement: Select) -> Pagination:
    """One page of `statement`'s rows, the page number taken from `?page=`, kept in range."""
    page = request.args.get("page", 1, type=int)
    return db.paginate(
        statement,
        page=min(max(page, 1), LAST_PAGE),
        per_page=current_app.config["PAGE_SIZE"],
        error_out=False,
        count=True,
    )
