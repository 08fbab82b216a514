"""A ZIP of stored entries written front to back, for sending as it is made.

Each entry's CRC-32 and size are known before its bytes (the CRC-32 of an evidence file is
recorded at upload; the documents are made before they are written), so they go in its local
header, as streaming readers need: Python's zipfile, writing where it cannot seek back, puts
them in a data descriptor after the data instead (flag bit 3), which Java's ZipInputStream
refuses for stored entries ("only DEFLATED entries can have EXT descriptor"). ZIP64 extra fields
are written where a size or an offset does not fit in 32 bits, and entries say they are regular
Unix files, -rw-r--r--, so that unpacking gives readable files and `zipinfo` shows what they are.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime

# From this value on, a size or an offset is written as _IN_ZIP64 with its value in a ZIP64 field.
ZIP64_LIMIT = 0xFFFFFFFF
_IN_ZIP64 = 0xFFFFFFFF
_MAX_ENTRIES = 0xFFFF
_UNIX = 3  # "made by" system: the external attributes hold a Unix mode
_REGULAR_FILE = 0o100644
_UTF8_NAME = 0x0800
_VERSION = 20  # 2.0: stored entries
_VERSION_ZIP64 = 45


@dataclass(frozen=True)
class ZipEntry:
    name: str
    size: int
    crc32: int
    modified: datetime


class ZipWriter:
    """Gives the bytes of the ZIP a piece at a time: `header(entry)`, then exactly `entry.size`
    bytes of the entry that the caller sends itself, and so on; `end()` gives the central directory.
    """

    def __init__(self) -> None:
        self._offset = 0  # where the next local header starts
        self._written: list[tuple[ZipEntry, int]] = []

    def header(self, entry: ZipEntry) -> bytes:
        """The entry's local header; the writer counts the entry's bytes as sent after it."""
        name, flags = _encoded(entry.name)
        zip64 = entry.size >= ZIP64_LIMIT
        extra = struct.pack("<HHQQ", 1, 16, entry.size, entry.size) if zip64 else b""
        size = _IN_ZIP64 if zip64 else entry.size
        header = struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            _VERSION_ZIP64 if zip64 else _VERSION,
            flags,
            0,  # stored
            *_dos_time(entry.modified),
            entry.crc32,
            size,  # compressed
            size,
            len(name),
            len(extra),
        )
        self._written.append((entry, self._offset))
        self._offset += len(header) + len(name) + len(extra) + entry.size
        return header + name + extra

    def end(self) -> bytes:
        """The central directory and its end records (ZIP64 ones where they are needed)."""
        directory = b"".join(self._directory_entry(entry, offset) for entry, offset in self._written)
        start, count = self._offset, len(self._written)
        records = b""
        if count >= _MAX_ENTRIES or start >= ZIP64_LIMIT or len(directory) >= ZIP64_LIMIT:
            zip64_end = start + len(directory)
            records += struct.pack(
                "<IQHHIIQQQQ", 0x06064B50, 44, (_UNIX << 8) | _VERSION_ZIP64, _VERSION_ZIP64, 0, 0,
                count, count, len(directory), start,
            )  # fmt: skip
            records += struct.pack("<IIQI", 0x07064B50, 0, zip64_end, 1)
        records += struct.pack(
            "<IHHHHIIH", 0x06054B50, 0, 0, min(count, _MAX_ENTRIES), min(count, _MAX_ENTRIES),
            _32_bits(len(directory)), _32_bits(start), 0,
        )  # fmt: skip
        return directory + records

    @staticmethod
    def _directory_entry(entry: ZipEntry, offset: int) -> bytes:
        name, flags = _encoded(entry.name)
        large_size, large_offset = entry.size >= ZIP64_LIMIT, offset >= ZIP64_LIMIT
        fields = ([entry.size, entry.size] if large_size else []) + ([offset] if large_offset else [])
        extra = struct.pack(f"<HH{len(fields)}Q", 1, 8 * len(fields), *fields) if fields else b""
        version = _VERSION_ZIP64 if fields else _VERSION
        size = _IN_ZIP64 if large_size else entry.size
        return (
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                (_UNIX << 8) | version,
                version,
                flags,
                0,  # stored
                *_dos_time(entry.modified),
                entry.crc32,
                size,
                size,
                len(name),
                len(extra),
                0,  # no comment
                0,  # disk
                0,  # internal attributes
                _REGULAR_FILE << 16,
                _IN_ZIP64 if large_offset else offset,
            )
            + name
            + extra
        )


def _32_bits(value: int) -> int:
    return _IN_ZIP64 if value >= ZIP64_LIMIT else value


def _encoded(name: str) -> tuple[bytes, int]:
    """The name's bytes and the flags that say how to read them (ASCII needs no flag)."""
    try:
        return name.encode("ascii"), 0
    except UnicodeEncodeError:
        return name.encode("utf-8"), _UTF8_NAME


def _dos_time(moment: datetime) -> tuple[int, int]:
    """(time, date) as MS-DOS wrote them, which ZIP headers keep: from 1980 to 2107, to two seconds."""
    year = min(max(moment.year, 1980), 2107)
    time = (moment.hour << 11) | (moment.minute << 5) | (moment.second // 2)
    return time, ((year - 1980) << 9) | (moment.month << 5) | moment.day
