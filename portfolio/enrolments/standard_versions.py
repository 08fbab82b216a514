"""Storing versions of standards so that enrolments can pin the exact text they started on."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from standard import load_standard_bytes, load_standard_text

from ..core import audit
from ..models import StandardVersion, User


def store_standard(
    session: Session, yaml_text: str, name: str = "<upload>", *, by: User | None = None
) -> tuple[StandardVersion, bool]:
    """Check and store a standard's YAML; return it and whether it is new.

    The same content loaded twice is the same version; changed content is a new version.
    Raises standard.StandardError, listing every problem, when the YAML is not valid.
    """
    standard = load_standard_text(yaml_text, name)
    content_hash = hashlib.sha256(yaml_text.encode("utf-8")).hexdigest()
    existing = session.scalar(select(StandardVersion).where(StandardVersion.content_hash == content_hash))
    if existing is not None:
        return existing, False
    stored = StandardVersion(
        reference=standard.reference,
        version=standard.version,
        title=standard.title,
        content_hash=content_hash,
        yaml_text=yaml_text,
    )
    session.add(stored)
    after = audit.values(stored, "reference", "version", "title", "content_hash")
    audit.record_change("standard.loaded", stored, actor=by, after=after)
    return stored, True


def latest_versions(session: Session) -> list[StandardVersion]:
    """Every stored version, newest first within each reference."""
    return list(
        session.scalars(select(StandardVersion).order_by(StandardVersion.reference, StandardVersion.loaded_at.desc()))
    )


def store_standard_upload(
    session: Session, data: bytes | str, name: str = "<upload>", *, by: User | None = None
) -> tuple[StandardVersion, bool]:
    """Store a standard uploaded as a file (bytes) or pasted into a form (text).

    Line endings are normalised as `portfolio standard load` reads files, and the text ends
    with one newline (a paste often loses it), so that the same standard pasted, uploaded or
    loaded from the command line is the same version.
    Raises standard.StandardError, listing every problem, when the YAML is not valid.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            load_standard_bytes(data, name)  # raises StandardError at the first byte that is not UTF-8
            raise
    text = data.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n") + "\n"
    return store_standard(session, text, name, by=by)
