"""The portfolio ZIP, written while it is sent: never held whole in memory or on disk.

Inside one folder named like the download:

    manifest.json                   what the export holds (schema: manifest.schema.json)
    portfolio.pdf                   the PDF export
    mapping.csv                     criterion code and text, item number and title, justification
    evidence/NNN-title/name.ext     every file of the exported items (withheld ones left out)
    SHA256SUMS                      every other file's SHA-256, for `sha256sum -c SHA256SUMS`

Entries are stored, not compressed (most evidence is compressed already), with ZIP64 where a
file needs it. Evidence bytes come from the store and their hashes from the database; each
file is hashed again as it streams, and its last chunk is held back until the hash matches. A
file whose bytes do not match stops the stream with EvidenceFileProblem: the file never arrives
whole and the ZIP's central directory is never written, so the download is an unusable
archive, never a silently wrong one.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Iterator
from datetime import datetime

from evidence import CHUNK_SIZE, EvidenceStore

from ..spreadsheets import neutralise
from .errors import EvidenceFileProblem
from .gather import ExportFile, ExportItem, Portfolio
from .manifest import Document, manifest_bytes

PDF_PATH = "portfolio.pdf"
MAPPING_PATH = "mapping.csv"
MANIFEST_PATH = "manifest.json"
SUMS_PATH = "SHA256SUMS"
MAPPING_HEADER = ("Criterion code", "Criterion", "Evidence item", "Evidence title", "Justification")


def check_files(portfolio: Portfolio, store: EvidenceStore) -> None:
    """Refuse before anything is sent if a file to export is missing or not the size on record."""
    for item, evidence_file in portfolio.files:
        if evidence_file.path is None:
            continue
        try:
            size = store.size(evidence_file.sha256)
        except KeyError:
            raise EvidenceFileProblem(item, evidence_file, "missing") from None
        if size != evidence_file.size:
            raise EvidenceFileProblem(item, evidence_file, "altered")


def zip_chunks(portfolio: Portfolio, pdf: bytes, store: EvidenceStore) -> Iterator[bytes]:
    """The ZIP's bytes, a chunk at a time; uses nothing but `store` once it has started."""
    # An empty chunk would end a chunked HTTP response early.
    return (chunk for chunk in _zip_parts(portfolio, pdf, store) if chunk)


def _zip_parts(portfolio: Portfolio, pdf: bytes, store: EvidenceStore) -> Iterator[bytes]:
    root = portfolio.file_stem
    mapping = mapping_csv(portfolio)
    documents = {"pdf": _document(PDF_PATH, pdf), "mapping_csv": _document(MAPPING_PATH, mapping)}
    generated = [(MANIFEST_PATH, manifest_bytes(portfolio, documents)), (PDF_PATH, pdf), (MAPPING_PATH, mapping)]
    spool = _Spool()
    sums = []
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for path, data in generated:
            archive.writestr(_entry(root, path, portfolio.exported_at, len(data)), data)
            sums.append((hashlib.sha256(data).hexdigest(), path))
            yield spool.take()
        for item, evidence_file in portfolio.files:
            if evidence_file.path is not None:
                yield from _stream_file(archive, spool, store, root, item, evidence_file)
                sums.append((evidence_file.sha256, evidence_file.path))
        listing = "".join(f"{sha256}  {path}\n" for sha256, path in sums).encode("utf-8")
        archive.writestr(_entry(root, SUMS_PATH, portfolio.exported_at, len(listing)), listing)
    # The central directory, written on closing: after an error it stays in the spool, never sent.
    yield spool.take()


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
    archive: zipfile.ZipFile,
    spool: _Spool,
    store: EvidenceStore,
    root: str,
    item: ExportItem,
    evidence_file: ExportFile,
) -> Iterator[bytes]:
    digest = hashlib.sha256()
    size = 0
    try:
        stream = store.open(evidence_file.sha256)
    except KeyError:
        raise EvidenceFileProblem(item, evidence_file, "missing") from None
    entry = _entry(root, evidence_file.path or "", evidence_file.uploaded_at, evidence_file.size)
    with stream, archive.open(entry, "w") as member:
        while chunk := stream.read(CHUNK_SIZE):
            yield spool.take()  # the chunk before this one: the newest waits until the hash is checked
            digest.update(chunk)
            size += len(chunk)
            if size > evidence_file.size:
                raise EvidenceFileProblem(item, evidence_file, "altered")
            member.write(chunk)
        if size != evidence_file.size or digest.hexdigest() != evidence_file.sha256:
            raise EvidenceFileProblem(item, evidence_file, "altered")
    yield spool.take()


def _entry(root: str, path: str, moment: datetime, size: int) -> zipfile.ZipInfo:
    entry = zipfile.ZipInfo(f"{root}/{path}", date_time=moment.timetuple()[:6])
    entry.compress_type = zipfile.ZIP_STORED
    entry.file_size = size  # known in advance, so that ZIP64 headers are written when it needs them
    entry.external_attr = 0o644 << 16  # readable files when unpacked, not zipfile's default 0600
    return entry


def _document(path: str, data: bytes) -> Document:
    return Document(path, hashlib.sha256(data).hexdigest(), len(data))


class _Spool(io.RawIOBase):
    """Where the ZIP writer writes: it keeps the bytes only until they are taken to be sent.

    It cannot seek, so the writer puts each entry's sizes and CRC after its data (a data
    descriptor) instead of going back to fill them in.
    """

    def __init__(self) -> None:
        super().__init__()
        self._chunks: list[bytes] = []
        self._offset = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        self._chunks.append(bytes(data))
        self._offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self._offset

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data
