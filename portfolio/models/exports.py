"""Exports asked for on the web: made by a job, kept in the store, offered for download once ready."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .enrolments import Enrolment
from .types import UTCDateTime, enum_column, utcnow


class ExportFormat(enum.Enum):
    PDF = "pdf"
    ZIP = "zip"

    @property
    def label(self) -> str:
        return {"pdf": "PDF", "zip": "ZIP"}[self.value]

    @property
    def media_type(self) -> str:
        return {"pdf": "application/pdf", "zip": "application/zip"}[self.value]


class ExportStatus(enum.Enum):
    PENDING = "pending"  # a job will make it
    READY = "ready"  # in the store, to download
    FAILED = "failed"  # `problem` says why
    EXPIRED = "expired"  # removed from the store after its time; asking again makes a new one


class Export(db.Model):
    """One export of an enrolment's portfolio in one format, from the request to the file.

    `content_key` is a hash of everything the export shows (see exports/requests.py): an export
    asked for while a ready one has the same key, or was made in the same `portfolio_state`, is
    that one, made once."""

    __tablename__ = "exports"
    __table_args__ = (
        # One export being prepared per enrolment and format: a second request joins it.
        Index(
            "uq_exports_one_pending",
            "enrolment_id",
            "format",
            unique=True,
            sqlite_where="status = 'pending'",
            postgresql_where="status = 'pending'",
        ),
        Index("ix_exports_enrolment_id_format_content_key", "enrolment_id", "format", "content_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id"))
    format: Mapped[ExportFormat] = mapped_column(enum_column(ExportFormat))
    status: Mapped[ExportStatus] = mapped_column(enum_column(ExportStatus), default=ExportStatus.PENDING, index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    fingerprint: Mapped[str] = mapped_column(String(64))  # the portfolio's, as printed in the export
    content_key: Mapped[str] = mapped_column(String(64))
    # The export design, the portfolio's revision and the day it was read for: an ask in the same
    # state is answered by this export without reading the portfolio again.
    portfolio_state: Mapped[str | None] = mapped_column(String(64))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    file_name: Mapped[str] = mapped_column(String(200), default="")  # offered to the browser
    size: Mapped[int | None] = mapped_column(BigInteger)
    problem: Mapped[str] = mapped_column(Text, default="")

    enrolment: Mapped[Enrolment] = relationship()
    requested_by: Mapped[User | None] = relationship()

    @property
    def store_name(self) -> str:
        """Its name in the store's export area: its own, so expiring it never touches another's file."""
        return f"export-{self.id}-{self.content_key[:16]}.{self.format.value}"
