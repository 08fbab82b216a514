"""Files kept across a form that failed: chosen, checked and stored, waiting for the next try.

A form that takes files stages every upload that passes the store's checks before it looks at
the rest of the form, so a missing justification does not lose the files. A staged upload
belongs to one user in one browser session and lasts as long as the sweep's grace period;
the sweep counts it as a reference to its stored file and removes it once expired.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from filestore import EvidenceStore, display_name

from ..core.domain import DomainError, attributes
from ..models import StagedUpload, User
from ..models.types import utcnow
from .items import Upload, store_upload


@dataclass
class Attached:
    """The files a form carries: kept from before and newly staged, and the problems of refused ones."""

    files: list[StagedUpload] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def attach_for_form(
    session: Session,
    store: EvidenceStore,
    *,
    user: User,
    browser_key: str,
    kept_ids: Collection[int],
    shown_ids: Collection[int],
    uploads: Iterable[Upload],
    max_bytes: int,
    max_pixels: int,
    expire_after: timedelta,
    now: datetime | None = None,
) -> Attached:
    """What a submitted form carries: the staged files it kept ticked (unticked ones it showed are
    discarded) and each new upload that passes its checks, staged. Nothing here commits."""
    now = now or utcnow()
    attached = Attached()
    mine = {
        staged.id: staged
        for staged in session.scalars(
            select(StagedUpload).where(
                StagedUpload.id.in_(set(kept_ids) | set(shown_ids)),
                StagedUpload.user_id == user.id,
                StagedUpload.browser_key == browser_key,
                StagedUpload.staged_at > now - expire_after,
            )
        )
    }
    attached.files = [mine[staged_id] for staged_id in dict.fromkeys(kept_ids) if staged_id in mine]
    if len(attached.files) < len(set(kept_ids)):  # expired, or never this session's
        attached.problems.append("A file you chose earlier is no longer kept. Choose it again.")
    for staged_id in set(shown_ids) - set(kept_ids):
        if staged_id in mine:
            session.delete(mine[staged_id])
    for upload in uploads:
        try:
            stored = store_upload(store, upload, max_bytes, max_pixels)
        except DomainError as error:
            attached.problems.append(error.message)
            continue
        staged = StagedUpload(
            **attributes(stored, "sha256", "size", "crc32", "media_type", "pixels"),
            user_id=user.id,
            browser_key=browser_key,
            display_name=display_name(upload.filename),
            staged_at=now,
        )
        session.add(staged)
        attached.files.append(staged)
    session.flush()
    return attached


def expire_staged(session: Session, *, before: datetime) -> int:
    """Remove staged uploads older than `before` (their files are then the sweep's to judge)."""
    result = session.execute(delete(StagedUpload).where(StagedUpload.staged_at <= before))
    return result.rowcount or 0
