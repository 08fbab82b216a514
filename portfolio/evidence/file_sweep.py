"""The sweep of the evidence store: the only place stored files are deleted (mark and sweep).

Requests never delete a stored file: the store keeps each file once by its hash, so the file of
a deleted draft may belong to another item, or to an upload of the same bytes not yet committed.
The sweep (`portfolio evidence sweep`, a job to schedule) instead:

1. removes staged uploads older than the grace period;
2. marks each stored file that no evidence file or staged upload refers to, with the time it was
   first seen so, and unmarks files referred to again;
3. deletes a marked file only when its mark and its file's modification time (which an upload of
   the same bytes refreshes) are both older than the grace period, checking once more, right
   before deleting, that nothing refers to it;
4. removes temporary files of uploads not written to for the grace period (a killed process).

Each step commits on its own, so a long sweep holds no lock for long.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, union_all
from sqlalchemy.orm import Session

from filestore import EvidenceStore

from ..models import EvidenceFile, StagedUpload, UnreferencedFile
from ..models.types import utcnow
from .staged_uploads import expire_staged


@dataclass(frozen=True)
class SweepReport:
    staged_expired: int
    newly_marked: int
    deleted: int
    bytes_freed: int
    waiting: int  # marked files not yet past the grace period, or reused meanwhile
    temporary_removed: int

    def __str__(self) -> str:
        return (
            f"Removed {self.staged_expired} expired staged uploads. "
            f"Marked {self.newly_marked} newly unreferenced files. "
            f"Deleted {self.deleted} files unreferenced for longer than the grace period "
            f"({self.bytes_freed:,} bytes). "
            f"{self.waiting} unreferenced files wait for the grace period. "
            f"Removed {self.temporary_removed} stale temporary files."
        )


def referenced_hashes(session: Session, hashes: set[str] | None = None) -> set[str]:
    """Hashes an evidence file or a staged upload refers to (of `hashes`, if given), read in one
    statement so that a file moving from a staged upload to an item is seen in one or the other."""
    files = select(EvidenceFile.sha256.label("sha256"))
    staged = select(StagedUpload.sha256.label("sha256"))
    if hashes is not None:
        files, staged = files.where(EvidenceFile.sha256.in_(hashes)), staged.where(StagedUpload.sha256.in_(hashes))
    both = union_all(files, staged).subquery()
    return set(session.scalars(select(both.c.sha256)))


def sweep(session: Session, store: EvidenceStore, *, grace: timedelta, now: datetime | None = None) -> SweepReport:
    """Run the four steps above and say what was done; commits after each."""
    now = now or utcnow()
    cutoff = now - grace

    staged_expired = expire_staged(session, before=cutoff)
    session.commit()

    stored = set(store.iter_hashes())
    unreferenced = stored - referenced_hashes(session)
    marked = set(session.scalars(select(UnreferencedFile.sha256)))
    session.execute(delete(UnreferencedFile).where(UnreferencedFile.sha256.not_in(unreferenced)))
    new_marks = unreferenced - marked
    session.add_all(UnreferencedFile(sha256=sha256, since=now) for sha256 in sorted(new_marks))
    session.commit()

    due = session.scalars(
        select(UnreferencedFile.sha256).where(UnreferencedFile.since <= cutoff).order_by(UnreferencedFile.sha256)
    ).all()
    deleted = bytes_freed = 0
    for sha256 in due:
        if referenced_hashes(session, {sha256}):
            session.execute(delete(UnreferencedFile).where(UnreferencedFile.sha256 == sha256))
        else:
            try:
                size = store.size(sha256)
            except KeyError:
                size = 0
            if store.delete_if_unchanged_since(sha256, cutoff.timestamp()):
                deleted += 1
                bytes_freed += size
                session.execute(delete(UnreferencedFile).where(UnreferencedFile.sha256 == sha256))
        session.commit()

    temporary_removed = store.clean_temp(older_than=grace.total_seconds(), now=now.timestamp())
    return SweepReport(
        staged_expired=staged_expired,
        newly_marked=len(new_marks),
        deleted=deleted,
        bytes_freed=bytes_freed,
        waiting=len(unreferenced) - deleted,
        temporary_removed=temporary_removed,
    )
