"""Exports asked for on the web: made once per portfolio state, by a job, and kept for a while.

Asking (`ask_for_export`) first compares the portfolio's state (its revision, the day, the export
design and the zone its times are shown in: `portfolio_state`) with the exports made: a ready
export made in the same state is the answer at once, without reading the portfolio; one being
prepared is joined. Otherwise it reads the portfolio and the key of everything an export shows
(`content_key`, which holds the zone too): a ready export with the same key is the answer; if
there is none, a pending export is recorded, audited, and a job deferred in the same transaction.
The job (`make_export`) reads the portfolio, ends its transaction, renders into the store's
export area, then marks the export ready. `expire_exports`, a periodic job, removes exports past
their time from the store, and fails those whose job never finished.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import fields, is_dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from filestore import EvidenceStore

from ..core import audit, clock, jobs, metrics
from ..core.domain import DomainError, lock_and_reload
from ..models import Enrolment, Export, ExportFormat, ExportStatus, User
from ..models.types import utcnow
from ..notifications.domain import notify
from ..notifications.kinds import Kind
from .archive import check_files, zip_chunks
from .gather import Portfolio, check_exportable, gather
from .pdf import render_pdf

logger = logging.getLogger(__name__)

# Bump when what an export looks like changes, so that exports made before are made again.
# 2: the PDF laid out once, with its own contents and page numbers; 3: times in the service's zone
EXPORT_DESIGN = 3
# Fields of a Portfolio that are not part of what it shows: when it was gathered (an export made
# earlier of the same content is the same document), and what is derived from the rest.
_NOT_SHOWN = frozenset({"exported_at", "standard", "coverage", "items_by_code"})
MAKE_EXPORT = "exports.make"  # the job (tasks.py)
PROBLEM_UNFINISHED = "It was not finished in time. Please ask for it again."


def content_key(portfolio: Portfolio) -> str:
    """A SHA-256 over everything the portfolio's exports show: same key, same document."""
    shown = {f.name: getattr(portfolio, f.name) for f in fields(portfolio) if f.name not in _NOT_SHOWN}
    text = json.dumps({"design": EXPORT_DESIGN, "portfolio": shown}, default=_plain, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in fields(value) if f.init}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"no plain form for {type(value).__name__} in a portfolio")


def portfolio_state(enrolment: Enrolment, now: datetime) -> str:
    """The export design, the zone times are shown in, the portfolio's revision and the day (what
    is due by today is shown): while all four stay the same, so does everything an export shows."""
    zone = clock.shown_zone().key
    return f"{EXPORT_DESIGN}/{zone}/{enrolment.portfolio_revision}/{clock.day_of(now).isoformat()}"


def ask_for_export(session: Session, enrolment: Enrolment, export_format: ExportFormat, *, actor: User) -> Export:
    """The export of the portfolio as it is now: a ready one of the same content, the one being
    prepared, or a new one whose job is deferred. ExportRefused for a withdrawn enrolment."""
    # One asker at a time per enrolment, so one pending export. Holding the lock also holds the
    # revision: a change to the portfolio raises it before its commit, which waits for ours.
    lock_and_reload(session, enrolment)
    check_exportable(enrolment)
    state = portfolio_state(enrolment, utcnow())
    current = session.scalars(
        select(Export)
        .where(
            Export.enrolment_id == enrolment.id,
            Export.format == export_format,
            Export.status.in_((ExportStatus.PENDING, ExportStatus.READY)),
        )
        .order_by(Export.id.desc())
    ).all()
    for export in current:
        if export.status is ExportStatus.PENDING or export.portfolio_state == state:
            return _answer(export)
    portfolio = gather(session, enrolment)  # changed since, or a state not seen before
    key = content_key(portfolio)
    for export in current:
        if export.content_key == key:  # the same content all the same (a new day, an undone change)
            export.portfolio_state = state
            return _answer(export)
    metrics.EXPORT_CACHE_MISSES.labels(export_format.value).inc()
    export = Export(
        enrolment=enrolment,
        format=export_format,
        requested_by=actor,
        fingerprint=portfolio.fingerprint,
        content_key=key,
        file_name=f"{portfolio.file_stem}.{export_format.value}",
    )
    session.add(export)
    session.flush()
    audit.record_change(
        "export.requested",
        enrolment,
        actor=actor,
        after={"export": export.id, "format": export_format.value, "fingerprint": portfolio.fingerprint},
    )
    jobs.defer(MAKE_EXPORT, export_id=export.id)
    return export


def _answer(export: Export) -> Export:
    if export.status is ExportStatus.READY:
        metrics.EXPORT_CACHE_HITS.labels(export.format.value).inc()
    return export


def make_export(session: Session, store: EvidenceStore, export_id: int) -> None:
    """Make a pending export and mark it ready, or failed with the reason; commits. Run again
    after it finished (a retried job), it does nothing."""
    export = session.get(Export, export_id)
    if export is None or export.status is not ExportStatus.PENDING:
        return
    try:
        # The state before the portfolio: a change committed in between leaves the export stamped
        # with the older revision (asked again, it is matched by content), never the other way.
        session.refresh(export.enrolment)
        state = portfolio_state(export.enrolment, utcnow())
        portfolio = gather(session, export.enrolment)
        crc32s = check_files(portfolio, store) if export.format is ExportFormat.ZIP else {}
        key = content_key(portfolio)
        made_pdf = _ready_pdf(session, store, export.enrolment_id, key)
    except DomainError as refusal:
        _finish(session, export, problem=refusal.message)
        return
    export.content_key, export.portfolio_state = key, state
    export.fingerprint = portfolio.fingerprint
    export.file_name = f"{portfolio.file_stem}.{export.format.value}"
    store_name = export.store_name
    # Nothing is read from the database from here on: end the transaction before the long render.
    session.commit()
    try:
        pdf = made_pdf if made_pdf is not None else render_pdf(portfolio, store)
        if export.format is ExportFormat.PDF:
            size = store.put_export(store_name, io.BytesIO(pdf))
        else:
            size = store.put_export(store_name, ChunkReader(zip_chunks(portfolio, pdf, store, crc32s)))
    except DomainError as problem:  # an unprintable character, a file altered while it was read
        _finish(session, export, problem=problem.message)
        return
    _finish(session, export, size=size)


def _ready_pdf(session: Session, store: EvidenceStore, enrolment_id: int, key: str) -> bytes | None:
    """The PDF already made of this very content, for a ZIP to carry rather than render it again."""
    made = session.scalars(
        select(Export).where(
            Export.enrolment_id == enrolment_id,
            Export.format == ExportFormat.PDF,
            Export.status == ExportStatus.READY,
            Export.content_key == key,
        )
    ).first()
    if made is None:
        return None
    try:
        with store.open_export(made.store_name) as stream:
            return stream.read()
    except KeyError:
        return None


def _finish(session: Session, export: Export, *, size: int | None = None, problem: str = "") -> None:
    lock_and_reload(session, export)
    if export.status is not ExportStatus.PENDING:  # expired as unfinished meanwhile
        session.commit()
        return
    export.status = ExportStatus.FAILED if problem else ExportStatus.READY
    export.size, export.problem, export.finished_at = size, problem, utcnow()
    after = {"export": export.id, "format": export.format.value, "fingerprint": export.fingerprint}
    if problem:
        after["problem"] = problem
    audit.record_change("export.failed" if problem else "export.made", export.enrolment, actor=None, after=after)
    if not problem and export.requested_by is not None:
        enrolment = export.enrolment
        notify(
            session,
            [export.requested_by],
            Kind.EXPORT_READY,
            title=f"The {export.format.label} of {enrolment.apprentice.name}'s portfolio is ready to download",
            link=f"/enrolments/{enrolment.id}/exports/{export.id}",
            enrolment=enrolment,
        )
    session.commit()


def expire_exports(session: Session, store: EvidenceStore, *, keep: timedelta, unfinished_after: timedelta) -> int:
    """Mark exports ready for longer than `keep` as expired, then remove their files; fail those
    pending for longer than `unfinished_after` (a worker that died). Returns how many expired."""
    now = utcnow()
    stale = session.scalars(
        select(Export).where(Export.status == ExportStatus.PENDING, Export.requested_at < now - unfinished_after)
    ).all()
    for export in stale:
        _finish(session, export, problem=PROBLEM_UNFINISHED)
    old = session.scalars(
        select(Export).where(Export.status == ExportStatus.READY, Export.finished_at < now - keep).with_for_update()
    ).all()
    names = [export.store_name for export in old]
    for export in old:
        export.status = ExportStatus.EXPIRED
    session.commit()  # first the rows, so no page offers a file that is about to go
    for name in names:
        store.delete_export(name)
    return len(names)


class ChunkReader(io.RawIOBase):
    """The chunks of an iterator as a stream to read, for the store to copy from."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._held = bytearray()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._held) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._held += chunk
        taken = len(self._held) if size < 0 else size
        data = bytes(self._held[:taken])
        del self._held[:taken]
        return data
