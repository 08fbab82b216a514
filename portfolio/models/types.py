"""Column types shared by the models."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum


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
