"""The portfolio ZIP, written while it is sent: never held whole in memory or on disk.

Inside one folder named like the download:

    manifest.json                   what the export holds (schema: manifest.schema.json)
    portfolio.pdf                   the PDF export
    mapping.csv                     criterion code and text, item number and title, justification
    evidence/NNN-title/name.ext     every file of the exported items (withheld ones left out)
    SHA256SUMS                      every other file's SHA-256, for `sha256sum -c SHA256SUMS`

Entries are stored, not compressed (most evidence is compressed already), each with its CRC-32
and size in its local header and ZIP64 fields where a file needs them (see `zipwriter`).
Evidence bytes come from the store and their hashes (SHA-256 and CRC-32) from the database;
each file is hashed again as it streams, and its last chunk is held back until both match. A
file whose bytes do not match stops the stream with EvidenceFileProblem: the file never arrives
whole and the ZIP's central directory is never written, so the download is an unusable
archive, never a silently wrong one.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zlib
from collections.abc import Iterator
from datetime import datetime

from filestore import CHUNK_SIZE, EvidenceStore

from ..core.clock import local
from ..core.spreadsheets import neutralise
from .errors import EvidenceFileProblem
from .gather import ExportFile, ExportItem, Portfolio
from .manifest import Document, manifest_bytes
from .zipwriter import ZipEntry, ZipWriter

PDF_PATH = "portfolio.pdf"
MAPPING_PATH = "mapping.csv"
MANIFEST_PATH = "manifest.json"
SUMS_PATH = "SHA256SUMS"
MAPPING_HEADER = ("Criterion code", "Criterion", "Evidence item", "Evidence title", "Justification")


def check_files(portfolio: Portfolio, store: EvidenceStore) -> dict[str, int]:
    """Refuse before anything is sent if a file to export is missing or not the size on record.

    Returns the CRC-32 of each exported file by its SHA-256: the one on record, or for a file
    stored before CRC-32s were recorded, read from the file (which is checked against its hash).
    """
    crc32s = {}
    for item, evidence_file in portfolio.files:
        if evidence_file.path is None:
            continue
        try:
            size = store.size(evidence_file.sha256)
        except KeyError:
            raise EvidenceFileProblem(item, evidence_file, "missing") from None
        if size != evidence_file.size:
            raise EvidenceFileProblem(item, evidence_file, "altered")
        if evidence_file.crc32 is not None:
            crc32s[evidence_file.sha256] = evidence_file.crc32
        elif evidence_file.sha256 not in crc32s:
            crc32s[evidence_file.sha256] = _read_crc32(store, item, evidence_file)
    return crc32s


def zip_chunks(portfolio: Portfolio, pdf: bytes, store: EvidenceStore, crc32s: dict[str, int]) -> Iterator[bytes]:
    """The ZIP's bytes, a chunk at a time; uses nothing but `store` once it has started. `crc32s`
    are the files' CRC-32s from `check_files`."""
    # An empty chunk would end a chunked HTTP response early.
    return (chunk for chunk in _zip_parts(portfolio, pdf, store, crc32s) if chunk)


def _zip_parts(portfolio: Portfolio, pdf: bytes, store: EvidenceStore, crc32s: dict[str, int]) -> Iterator[bytes]:
    root = portfolio.file_stem
    mapping = mapping_csv(portfolio)
    documents = {"pdf": _document(PDF_PATH, pdf), "mapping_csv": _document(MAPPING_PATH, mapping)}
    generated = [(MANIFEST_PATH, manifest_bytes(portfolio, documents)), (PDF_PATH, pdf), (MAPPING_PATH, mapping)]
    writer = ZipWriter()
    sums = []
    # A ZIP's times have no zone, and unzipping tools read them as local: the zone the PDF shows.
    zone = portfolio.time_zone
    exported = local(portfolio.exported_at, zone)
    for path, data in generated:
        yield writer.header(ZipEntry(f"{root}/{path}", len(data), zlib.crc32(data), exported))
        yield data
        sums.append((hashlib.sha256(data).hexdigest(), path))
    for item, evidence_file in portfolio.files:
        if evidence_file.path is not None:
            uploaded = local(evidence_file.uploaded_at, zone)
            yield from _stream_file(writer, store, root, item, evidence_file, crc32s[evidence_file.sha256], uploaded)
            sums.append((evidence_file.sha256, evidence_file.path))
    listing = "".join(f"{sha256}  {path}\n" for sha256, path in sums).encode("utf-8")
    yield writer.header(ZipEntry(f"{root}/{SUMS_PATH}", len(listing), zlib.crc32(listing), exported))
    yield listing
    # The central directory: only once every file has arrived whole and matched its hashes.
    yield writer.end()


def mapping_csv(portfolio: Portfolio) -> bytes:
    """One row per criterion and item mapped to it, in the standard's order; a criterion with no
    evidence has a row with the item columns empty. UTF-8 with a BOM, for spreadsheets."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(MAPPING_HEADER)
    for criterion in portfolio.standard:
        items = portfolio.items_by_code[criterion.code]
        rows = [(item.number, item.title, _justification(item, criterion.code)) for item in items] or [("", "", "")]
        for number, title, justification in rows:
            writer.writerow(
                [neutralise(cell) for cell in (criterion.code, criterion.text, number, title, justification)]
            )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _justification(item: ExportItem, code: str) -> str:
    return next(link.justification for link in item.links if link.code == code)


def _stream_file(
    writer: ZipWriter,
    store: EvidenceStore,
    root: str,
    item: ExportItem,
    evidence_file: ExportFile,
    crc32: int,
    modified: datetime,
) -> Iterator[bytes]:
    digest, crc, size = hashlib.sha256(), 0, 0
    try:
        stream = store.open(evidence_file.sha256)
    except KeyError:
        raise EvidenceFileProblem(item, evidence_file, "missing") from None
    held = writer.header(ZipEntry(f"{root}/{evidence_file.path}", evidence_file.size, crc32, modified))
    with stream:
        while chunk := stream.read(CHUNK_SIZE):
            yield held  # the chunk before this one: the newest waits until the hashes are checked
            digest.update(chunk)
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
            if size > evidence_file.size:
                raise EvidenceFileProblem(item, evidence_file, "altered")
            held = chunk
    if size != evidence_file.size or crc != crc32 or digest.hexdigest() != evidence_file.sha256:
        raise EvidenceFileProblem(item, evidence_file, "altered")
    yield held


def _read_crc32(store: EvidenceStore, item: ExportItem, evidence_file: ExportFile) -> int:
    """The CRC-32 of a stored file, read from it; EvidenceFileProblem if it no longer has its hash."""
    digest, crc = hashlib.sha256(), 0
    try:
        with store.open(evidence_file.sha256) as stream:
            while chunk := stream.read(CHUNK_SIZE):
                digest.update(chunk)
                crc = zlib.crc32(chunk, crc)
    except KeyError:
        raise EvidenceFileProblem(item, evidence_file, "missing") from None
    if digest.hexdigest() != evidence_file.sha256:
        raise EvidenceFileProblem(item, evidence_file, "altered")
    return crc


def _document(path: str, data: bytes) -> Document:
    return Document(path, hashlib.sha256(data).hexdigest(), len(data))
