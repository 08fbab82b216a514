"""The sweep of the evidence store: the only place stored files are deleted (mark and sweep).

Requests never delete a stored file: the store keeps each file once by its hash, so the file of
a deleted draft may belong to another item, or to an upload of the same bytes not yet committed.
The sweep (`portfolio evidence sweep`, a job to schedule) instead:

1. removes staged uploads older than the grace period;
2. forgets the readings (filestore.readings) of contents nothing holds, then marks each stored file
   that no evidence file, staged upload or kept reading's page refers to, with the time it was
   first seen so, and unmarks files referred to again;
3. deletes a marked file only when its mark and its file's modification time (which an upload of
   the same bytes refreshes) are both older than the grace period, checking once more, right
   before deleting, that nothing refers to it;
4. removes temporary files of uploads not written to for the grace period (a killed process).

Each step commits on its own, so a long sweep holds no database lock for long. The whole sweep
holds the sweep's lock (`sweep_lock`), which a backup or a restore holds too: while one runs, no
stored file can vanish from under it, and a sweep that finds the lock taken does nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, select, text, union_all
from sqlalchemy.orm import Session

from filestore import EvidenceStore

from ..core.domain import DomainError
from ..models import EvidenceFile, FileReading, ReadingPage, StagedUpload, UnreferencedFile
from ..models.types import utcnow
from .staged_uploads import expire_staged

# The sweep's lock on PostgreSQL: a session advisory lock under this key (arbitrary but fixed).
SWEEP_LOCK = 0x65766964656E6365  # "evidence"


class StoreBusy(DomainError):
    """The sweep's lock is taken: a backup, a restore or another sweep is running."""

    def __init__(self) -> None:
        super().__init__(
            "The evidence store is busy: a backup, a restore or another sweep is running. "
            "This sweep deleted nothing; the next one catches up."
        )


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


def referenced_hashes(session: Session, hashes: set[str] | None = None, *, readings: bool = True) -> set[str]:
    """Hashes an evidence file or a staged upload refers to, or (with `readings`) a page drawn of
    one of them (of `hashes`, if given), read in one statement so that a file moving from a staged
    upload to an item is seen in one or the other."""
    files = select(EvidenceFile.sha256.label("sha256"))
    staged = select(StagedUpload.sha256.label("sha256"))
    pages = select(ReadingPage.image_sha256.label("sha256")).where(ReadingPage.reading_sha256.in_(_sources()))
    if hashes is not None:
        files, staged = files.where(EvidenceFile.sha256.in_(hashes)), staged.where(StagedUpload.sha256.in_(hashes))
        pages = pages.where(ReadingPage.image_sha256.in_(hashes))
    every = union_all(files, staged, *([pages] if readings else [])).subquery()
    return set(session.scalars(select(every.c.sha256)))


def _sources():
    """What evidence files and staged uploads hold: the contents whose readings are kept."""
    return union_all(select(EvidenceFile.sha256), select(StagedUpload.sha256))


def forget_unused_readings(session: Session) -> int:
    """Delete the readings of contents nothing holds any more, so that their pages can be swept;
    a content attached again is read again."""
    # Chosen once, so that a reading goes with its pages even if its content is attached meanwhile
    # (the catch-up job reads that content again).
    unused = list(session.scalars(select(FileReading.sha256).where(FileReading.sha256.not_in(_sources()))))
    session.execute(delete(ReadingPage).where(ReadingPage.reading_sha256.in_(unused)))
    session.execute(delete(FileReading).where(FileReading.sha256.in_(unused)))
    return len(unused)


@contextmanager
def sweep_lock(engine: Engine, *, wait: bool, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the sweep's lock for the with-block. If it is taken: StoreBusy, or with `wait`, call
    `on_wait` and wait for it.

    PostgreSQL: a session advisory lock on a connection of its own, in autocommit, so that no
    transaction stays open for as long as a backup runs. SQLite lives on one host: an exclusive
    `flock` on a file beside the database.
    """
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            key = {"key": SWEEP_LOCK}
            if not connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), key):
                _wait_or_refuse(wait, on_wait)
                connection.execute(text("SELECT pg_advisory_lock(:key)"), key)
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), key)
        return
    database = engine.url.database
    if os.name != "posix" or not database or database == ":memory:":
        # No lock file to share (an in-memory database has one process), or no flock (Windows):
        # the grace period is then the only guard, as it is against a sweep of another host.
        yield
        return
    import fcntl

    # Never removed: deleting a lock file races with whoever is about to open it.
    with open(f"{database}-sweep.lock", "ab") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _wait_or_refuse(wait, on_wait)
            fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _wait_or_refuse(wait: bool, on_wait: Callable[[], None] | None) -> None:
    if not wait:
        raise StoreBusy()
    if on_wait:
        on_wait()


def sweep(session: Session, store: EvidenceStore, *, grace: timedelta, now: datetime | None = None) -> SweepReport:
    """Run the four steps above under the sweep's lock and say what was done; commits after each.
    StoreBusy, having done nothing, if a backup, a restore or another sweep holds the lock."""
    with sweep_lock(session.get_bind().engine, wait=False):
        return _sweep(session, store, grace=grace, now=now)


def _sweep(session: Session, store: EvidenceStore, *, grace: timedelta, now: datetime | None) -> SweepReport:
    now = now or utcnow()
    cutoff = now - grace

    staged_expired = expire_staged(session, before=cutoff)
    forget_unused_readings(session)
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
