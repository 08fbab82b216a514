"""What the sweep of the evidence store needs to know beyond the evidence itself: files kept
for a form that failed, and files that nothing refers to any more, with since when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .types import UTCDateTime, utcnow


class StagedUpload(db.Model):
    """A file that passed its checks on a form that failed for another reason, kept for the next
    try: it belongs to one user in one browser session (`browser_key`, kept in the session)."""

    __tablename__ = "staged_uploads"
    __table_args__ = (Index("ix_staged_uploads_user_id_browser_key", "user_id", "browser_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    browser_key: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    crc32: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    pixels: Mapped[int | None] = mapped_column(BigInteger)  # as EvidenceFile.pixels
    display_name: Mapped[str] = mapped_column(String(200))
    staged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    user: Mapped[User] = relationship()


class UnreferencedFile(db.Model):
    """The sweep's mark: a stored file that no evidence file or staged upload referred to when the
    sweep looked, and since when. It is deleted only once the mark is older than the grace period."""

    __tablename__ = "unreferenced_files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
