"""Stored versions of standards: the YAML text, pinned by its content hash."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from standard import Standard, load_standard_text

from ..extensions import db
from .types import UTCDateTime, utcnow


class StandardVersion(db.Model):
    __tablename__ = "standard_versions"
    __table_args__ = (UniqueConstraint("content_hash", name="uq_standard_versions_content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), index=True)
    version: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    content_hash: Mapped[str] = mapped_column(String(64))
    yaml_text: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def standard(self) -> Standard:
        """The parsed criteria tree (parsed once per content hash per process)."""
        return _parse(self.content_hash, self.yaml_text)

    @property
    def label(self) -> str:
        return f"{self.reference} {self.title}, version {self.version}"

    @property
    def short_hash(self) -> str:
        return self.content_hash[:12]


@lru_cache(maxsize=64)
def _parse(content_hash: str, yaml_text: str) -> Standard:
    return load_standard_text(yaml_text, f"standard {content_hash[:12]}")
