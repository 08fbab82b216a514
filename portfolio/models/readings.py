"""What a reviewer reads of a stored file without downloading it, made once per content by a job:
a PDF's pages drawn as images (kept in the evidence store like any file) with their text, or an
office document's or a text file's text. Keyed by the file's SHA-256, so the same bytes attached
twice are read once."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, enum_column, utcnow


class ReadingState(enum.Enum):
    READY = "ready"
    UNREADABLE = "unreadable"  # damaged or encrypted: a download only


class FileReading(db.Model):
    __tablename__ = "file_readings"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[ReadingState] = mapped_column(enum_column(ReadingState))
    page_count: Mapped[int] = mapped_column(default=0)  # of a PDF, drawn or not
    text: Mapped[str] = mapped_column(Text, default="")
    text_cut: Mapped[bool] = mapped_column(default=False)
    problem: Mapped[str] = mapped_column(String(300), default="")
    made_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    pages: Mapped[list[ReadingPage]] = relationship(
        back_populates="reading", order_by="ReadingPage.number", cascade="all, delete-orphan"
    )


class ReadingPage(db.Model):
    """A PDF page drawn as a PNG, whose bytes are in the evidence store under `image_sha256`."""

    __tablename__ = "file_reading_pages"
    __table_args__ = (UniqueConstraint("reading_sha256", "number", name="uq_file_reading_pages_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reading_sha256: Mapped[str] = mapped_column(ForeignKey("file_readings.sha256", ondelete="CASCADE"))
    number: Mapped[int]
    image_sha256: Mapped[str] = mapped_column(String(64), index=True)
    width: Mapped[int]
    height: Mapped[int]
    text: Mapped[str] = mapped_column(Text, default="")

    reading: Mapped[FileReading] = relationship(back_populates="pages")
