"""Column types shared by the models."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum, String, Table, Text, TypeDecorator

from ..core.text import storable

# The longest note on a record (a judgement, a criterion at a progress review, a queried OTJ entry,
# a gateway decision, a status change). The note columns are Text: the limit is the rule, kept here
# beside them so that every feature's rule and form agree.
MAX_NOTE = 2_000


def enum_column(enum_class: type[enum.Enum]) -> Enum:
    """Store an enum by its value in a plain string column, the same on SQLite and PostgreSQL."""
    return Enum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=max(len(m.value) for m in enum_class),
        values_callable=lambda members: [m.value for m in members],
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """A UTC time read back from SQLite, which may come without its zone, made comparable with utcnow()."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class UTCDateTime(DateTime):
    """A timezone-aware UTC timestamp on every database (SQLite drops the zone)."""

    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def result_processor(self, dialect, coltype):  # type: ignore[override]
        parent = super().result_processor(dialect, coltype)

        def process(value):
            if parent is not None:
                value = parent(value)
            if value is not None and value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            return value

        return process


class StorableString(TypeDecorator):
    """A String that drops, on the way to the database, what the database cannot store.

    A safety net under the domain's rule (portfolio.text): PostgreSQL refuses NUL, so a text the
    domain did not clean, or a value a query compares a column with, cannot fail the request."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return storable(value) if isinstance(value, str) else value


class StorableText(StorableString):
    impl = Text
    cache_ok = True


def make_text_columns_storable(table: Table) -> None:
    """Give every plain String and Text column of `table` the safety net (enums keep theirs)."""
    for column in table.columns:
        if type(column.type) in (String, Text):
            storable_type = StorableText if isinstance(column.type, Text) else StorableString
            column.type = storable_type(column.type.length)
