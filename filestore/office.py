"""ZIP-based office files (Word, Excel, PowerPoint, OpenDocument): their kind, and that they carry no macros.

A ZIP's table of contents is its central directory, found from the end-of-central-directory
record at the very end of the file (and the ZIP64 record for big ones). Office programs list
parts from it, so it is read here in full, wherever the parts' bytes lie and however many
there are, and every entry is checked: a macro project anywhere refuses the file. A ZIP that can
be read two ways (two end records, a directory that does not end where the record says,
names that `zipfile` reads differently, the same part twice) is refused rather than guessed at.
"""

from __future__ import annotations

import re
import struct
import zipfile
from pathlib import Path
from typing import BinaryIO
from xml.etree import ElementTree

_END = b"PK\x05\x06"
_END_SIZE = 22
_MAX_COMMENT = 0xFFFF
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_LOCATOR_SIZE = 20
_ZIP64_END = b"PK\x06\x06"
_ZIP64_END_SIZE = 56
_ENTRY = b"PK\x01\x02"
_ENTRY_SIZE = 46
_UTF8_NAMES = 0x800  # general-purpose flag: the entry's name is UTF-8, else code page 437

# Office files have tens to a few thousand entries and a content-types part of a few kilobytes;
# bigger is not an office file, and reading it would cost memory and time in proportion.
MAX_ENTRIES = 20_000
MAX_DIRECTORY = 8 << 20
MAX_CONTENT_TYPES = 8 << 20

_ODF = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
    b"application/vnd.oasis.opendocument.presentation": "odp",
}
_OOXML = (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx"))
# Parts that hold code: VBA projects and their data (Word, Excel, PowerPoint), ActiveX controls,
# Excel 4 macro sheets, and OpenDocument's Basic and script libraries.
_MACRO_PART = re.compile(r"(^|/)(vba[^/]*\.(bin|xml)$|activex/|macrosheets/|basic/|scripts/)")
_MACRO_CONTENT_TYPE = ("macroenabled", "vbaproject", "vbadata", "activex", "macrosheet")


def office_kind(path: Path) -> str | None:
    """ "docx", "xlsx", "pptx", "odt", "ods" or "odp"; None for any other ZIP, one with macros, or a broken one."""
    try:
        with path.open("rb") as stream:
            names = central_directory(stream)
        folded = [name.lower() for name in names]  # part names are compared without regard to case
        if len(set(folded)) != len(folded) or any(_MACRO_PART.search(name) for name in folded):
            return None
        with zipfile.ZipFile(path) as archive:
            if [entry.filename for entry in archive.infolist()] != names:
                return None  # zipfile would read another directory than ours: ambiguous
            if names[0] == "mimetype":
                with archive.open("mimetype") as part:
                    return _ODF.get(part.read(100).strip())
            if "[Content_Types].xml" not in names or _declares_macros(archive):
                return None
    except Exception:  # a ZIP that cannot be read, however it fails, is just not an office file
        return None
    return next((key for prefix, key in _OOXML if any(name.startswith(prefix) for name in names)), None)


def central_directory(stream: BinaryIO) -> list[str]:
    """The name of every entry, in the directory's order; ValueError if the ZIP is not one plain reading."""
    size = stream.seek(0, 2)
    tail_start = max(0, size - _END_SIZE - _MAX_COMMENT)
    stream.seek(tail_start)
    tail = stream.read()
    # The record is followed by its comment and nothing else; a comment may itself hold the
    # signature, so every candidate is tried and exactly one must fit.
    ends = [
        at
        for at in _positions(tail, _END)
        if at + _END_SIZE <= len(tail) and at + _END_SIZE + _u16(tail, at + 20) == len(tail)
    ]
    if len(ends) != 1:
        raise ValueError("no single end-of-central-directory record")
    end = tail_start + ends[0]
    disk, directory_disk, disk_entries, entries, directory_size, directory_offset = struct.unpack_from(
        "<HHHHII", tail, ends[0] + 4
    )
    directory_end = end
    if 0xFFFF in (disk, directory_disk, disk_entries, entries) or 0xFFFFFFFF in (directory_size, directory_offset):
        directory_end, (disk, directory_disk, disk_entries, entries, directory_size, directory_offset) = _zip64(
            stream, end
        )
    if disk or directory_disk or disk_entries != entries:
        raise ValueError("a ZIP split over several disks")
    if entries > MAX_ENTRIES or directory_size > MAX_DIRECTORY:
        raise ValueError("too large a directory for an office file")
    if directory_offset + directory_size != directory_end:
        raise ValueError("the directory does not end where the end record is")
    stream.seek(directory_offset)
    directory = stream.read(directory_size)
    names = []
    at = 0
    for _ in range(entries):
        if directory[at : at + 4] != _ENTRY or at + _ENTRY_SIZE > len(directory):
            raise ValueError("a broken directory entry")
        flags = _u16(directory, at + 8)
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", directory, at + 28)
        name = directory[at + _ENTRY_SIZE : at + _ENTRY_SIZE + name_length]
        names.append(name.decode("utf-8" if flags & _UTF8_NAMES else "cp437"))
        at += _ENTRY_SIZE + name_length + extra_length + comment_length
    if at != len(directory) or not names:
        raise ValueError("the directory holds more or less than its entries")
    return names


def _zip64(stream: BinaryIO, end: int) -> tuple[int, tuple[int, ...]]:
    """Where the ZIP64 end record starts, and its (disk, directory disk, entries here, entries, size, offset)."""
    locator_at = end - _ZIP64_LOCATOR_SIZE
    if locator_at < 0:
        raise ValueError("no ZIP64 locator")
    stream.seek(locator_at)
    locator = stream.read(_ZIP64_LOCATOR_SIZE)
    if locator[:4] != _ZIP64_LOCATOR or struct.unpack_from("<I", locator, 16)[0] != 1:
        raise ValueError("no ZIP64 locator")
    record_at = struct.unpack_from("<Q", locator, 8)[0]
    stream.seek(record_at)
    record = stream.read(_ZIP64_END_SIZE)
    if len(record) < _ZIP64_END_SIZE or record[:4] != _ZIP64_END:
        raise ValueError("no ZIP64 end record")
    if record_at + 12 + struct.unpack_from("<Q", record, 4)[0] != locator_at:
        raise ValueError("the ZIP64 end record does not end at its locator")
    return record_at, struct.unpack_from("<IIQQQQ", record, 16)


def _declares_macros(archive: zipfile.ZipFile) -> bool:
    """Whether [Content_Types].xml, read to its end, names a macro-enabled or code-carrying part
    (one too big to be genuine counts as such: it is not read)."""
    if archive.getinfo("[Content_Types].xml").file_size > MAX_CONTENT_TYPES:
        return True
    with archive.open("[Content_Types].xml") as part:
        # Parsed, not searched: a character reference can spell "macroEnabled" without those bytes.
        for _, element in ElementTree.iterparse(part):
            content_type = element.get("ContentType", "").lower()
            if any(marker in content_type for marker in _MACRO_CONTENT_TYPE):
                return True
            element.clear()
    return False


def _positions(data: bytes, needle: bytes) -> list[int]:
    found = []
    at = data.find(needle)
    while at >= 0:
        found.append(at)
        at = data.find(needle, at + 1)
    return found


def _u16(data: bytes, at: int) -> int:
    return struct.unpack_from("<H", data, at)[0]
