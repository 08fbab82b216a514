"""Readings of evidence files for the review workspace: made by a job once per stored content,
never in a request, and read by the item page in one query.

A file attached to an item asks for its reading when the transaction commits; the periodic
catch-up reads any file that has none (stored before readings existed, or whose job was lost).
"""

from __future__ import annotations

import io
import logging
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from filestore import EvidenceStore
from filestore.readings import Unreadable, read, readable
from filestore.types import ALLOWED, file_type

from ..core import jobs
from ..models import EvidenceFile, FileReading, ReadingPage, ReadingState

READ_JOB = "evidence.read_file"
CATCH_UP_BATCH = 20  # files read by one run of the periodic catch-up

READABLE_MEDIA_TYPES = tuple(t.media_type for t in ALLOWED if readable(t.key))

logger = logging.getLogger(__name__)


def has_reading(media_type: str) -> bool:
    """Whether the file is of a kind that is read, and readings are made here."""
    return media_type in READABLE_MEDIA_TYPES and bool(current_app.config["FILE_READINGS"])


def ask_for_reading(sha256: str, media_type: str) -> None:
    """Have the job read the file once the transaction commits, if it is a kind that has a reading."""
    if has_reading(media_type):
        jobs.defer(READ_JOB, sha256=sha256, media_type=media_type)


def readings_of(session: Session, files: Iterable[EvidenceFile]) -> dict[str, FileReading]:
    """The readings made of these files, by SHA-256, with their pages (two queries at most)."""
    hashes = {f.sha256 for f in files if has_reading(f.media_type)}
    if not hashes:
        return {}
    readings = session.scalars(
        select(FileReading).where(FileReading.sha256.in_(hashes)).options(selectinload(FileReading.pages))
    )
    return {reading.sha256: reading for reading in readings}


def drawn_page(session: Session, sha256: str, number: int) -> ReadingPage | None:
    return session.scalar(select(ReadingPage).where(ReadingPage.reading_sha256 == sha256, ReadingPage.number == number))


def make_reading(session: Session, store: EvidenceStore, sha256: str, media_type: str) -> FileReading | None:
    """Read the stored file and keep its reading (its drawn pages put in the store); None if it
    has one already or is gone. Two jobs reading the same content at once keep one reading."""
    if session.get(FileReading, sha256) is not None:
        return None
    kind = file_type(media_type).key
    with tempfile.TemporaryDirectory(prefix="reading-") as folder:
        path = Path(folder) / f"file.{kind}"
        try:
            with store.open(sha256) as source, path.open("wb") as copy:
                shutil.copyfileobj(source, copy, 1024 * 1024)
        except KeyError:
            logger.warning("No reading of %s: it is not in the evidence store", sha256)
            return None
        try:
            drawn = read(path, kind)
        except Unreadable as problem:
            reading = FileReading(sha256=sha256, state=ReadingState.UNREADABLE, problem=str(problem)[:300])
        else:
            reading = FileReading(
                sha256=sha256,
                state=ReadingState.READY,
                page_count=drawn.page_count,
                text=drawn.text,
                text_cut=drawn.text_cut,
            )
            for page in drawn.pages:
                stored = store.put(io.BytesIO(page.png), f"page-{page.number}.png", len(page.png) + 1)
                reading.pages.append(
                    ReadingPage(
                        number=page.number,
                        image_sha256=stored.sha256,
                        width=page.width,
                        height=page.height,
                        text=page.text,
                    )
                )
    try:
        with session.begin_nested():
            session.add(reading)
    except IntegrityError:  # another job kept this content's reading first; its pages are the same bytes
        return None
    return reading


def files_without_reading(session: Session, limit: int) -> list[tuple[str, str]]:
    """(SHA-256, media type) of up to `limit` stored evidence files of a readable kind that have no
    reading yet (one query)."""
    rows = session.execute(
        select(EvidenceFile.sha256, EvidenceFile.media_type)
        .where(
            EvidenceFile.media_type.in_(READABLE_MEDIA_TYPES),
            ~select(FileReading.sha256).where(FileReading.sha256 == EvidenceFile.sha256).exists(),
        )
        .distinct()
        .order_by(EvidenceFile.sha256)
        .limit(limit)
    )
    return [(sha256, media_type) for sha256, media_type in rows]
