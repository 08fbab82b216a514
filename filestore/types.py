"""Which kinds of file we accept, told from their contents and never from their names alone.

`ALLOWED` is the whole allow-list. A file's kind is read from its first bytes (and, for the
ZIP-based office formats, from the ZIP's entry names); plain text has no signature, so it is
recognised by a check that runs over every byte as the file streams in, and a binary tail
cannot hide behind a text head. Office files are told from their whole ZIP directory, and one
with macros is none of ours (see `office`). The declared name must then agree with what was
found: a name is what a browser or desktop uses to choose a program, so a mismatch is refused.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import UploadRejected
from .office import office_kind

HEAD_SIZE = 4096  # bytes of the start of a file that the signatures below look at


@dataclass(frozen=True, slots=True)
class FileType:
    """One accepted kind of file."""

    key: str
    media_type: str
    extensions: tuple[str, ...]  # lower case, no dot; the first is the usual one
    label: str  # how people call it, e.g. "JPEG image"
    group: str  # documents, images, audio or video: how the list is told to people
    previewable: bool = False  # an image a browser may show inline; everything else is a download

    @property
    def extension(self) -> str:
        return self.extensions[0]


ALLOWED: tuple[FileType, ...] = (
    FileType("pdf", "application/pdf", ("pdf",), "PDF document", "documents"),
    FileType(
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ("docx",),
        "Word document",
        "documents",
    ),
    FileType(
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ("xlsx",),
        "Excel spreadsheet",
        "documents",
    ),
    FileType(
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ("pptx",),
        "PowerPoint presentation",
        "documents",
    ),
    FileType("odt", "application/vnd.oasis.opendocument.text", ("odt",), "OpenDocument text", "documents"),
    FileType(
        "ods", "application/vnd.oasis.opendocument.spreadsheet", ("ods",), "OpenDocument spreadsheet", "documents"
    ),
    FileType(
        "odp", "application/vnd.oasis.opendocument.presentation", ("odp",), "OpenDocument presentation", "documents"
    ),
    FileType("doc", "application/msword", ("doc",), "Word 97-2003 document", "documents"),
    FileType("xls", "application/vnd.ms-excel", ("xls",), "Excel 97-2003 spreadsheet", "documents"),
    FileType("ppt", "application/vnd.ms-powerpoint", ("ppt",), "PowerPoint 97-2003 presentation", "documents"),
    FileType("txt", "text/plain", ("txt",), "plain text file", "documents"),
    FileType("csv", "text/csv", ("csv",), "CSV file", "documents"),
    FileType("jpeg", "image/jpeg", ("jpg", "jpeg"), "JPEG image", "images", previewable=True),
    FileType("png", "image/png", ("png",), "PNG image", "images", previewable=True),
    FileType("gif", "image/gif", ("gif",), "GIF image", "images", previewable=True),
    FileType("webp", "image/webp", ("webp",), "WebP image", "images", previewable=True),
    FileType("mp3", "audio/mpeg", ("mp3",), "MP3 audio file", "audio"),
    FileType("m4a", "audio/mp4", ("m4a",), "M4A audio file", "audio"),
    FileType("wav", "audio/wav", ("wav",), "WAV audio file", "audio"),
    FileType("mp4", "video/mp4", ("mp4", "m4v"), "MP4 video", "video"),
    FileType("mov", "video/quicktime", ("mov",), "QuickTime video", "video"),
    FileType("webm", "video/webm", ("webm",), "WebM video", "video"),
)

_BY_KEY = {t.key: t for t in ALLOWED}
_BY_EXTENSION = {extension: t for t in ALLOWED for extension in t.extensions}
_BY_MEDIA_TYPE = {t.media_type: t for t in ALLOWED}


def file_type(media_type: str) -> FileType:
    """The allowed type with this media type (as stored with a file); KeyError if none."""
    return _BY_MEDIA_TYPE[media_type]


def accept_attribute() -> str:
    """Every accepted extension, for an `<input type=file accept=...>`."""
    return ",".join(f".{extension}" for extension in _BY_EXTENSION)


def accepted_summary() -> str:
    """The allow-list in plain words, grouped, for messages and hints."""
    groups: dict[str, list[str]] = {}
    for t in ALLOWED:
        groups.setdefault(t.group, []).extend(f".{extension}" for extension in t.extensions)
    parts = [f"{group} ({', '.join(extensions)})" for group, extensions in groups.items()]
    return "You can upload " + ", ".join(parts[:-1]) + f" and {parts[-1]}."


# --- signatures -------------------------------------------------------------------------

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MP4_BRANDS = {
    b"isom",
    *(b"iso%d" % n for n in range(2, 10)),
    b"mp41",
    b"mp42",
    b"avc1",
    b"M4V ",
    b"M4VH",
    b"M4VP",
    b"dash",
    b"mmp4",
    b"MSNV",
    b"XAVC",
}
# Browsers render these as documents whatever the name says, so text that starts like them is not text to us.
_MARKUP = (b"<!doctype html", b"<html", b"<script", b"<svg", b"<?xml", b"<body", b"<iframe")


def _of(*keys: str) -> tuple[FileType, ...]:
    return tuple(_BY_KEY[key] for key in keys)


def detect(head: bytes, path: Path | None = None, text: bool = False) -> tuple[FileType, ...]:
    """The allowed types a file may be, best first; empty if it is none of them.

    `head` is the file's first bytes (HEAD_SIZE is enough), `path` the complete file when the
    caller has it (needed to look inside ZIPs), `text` whether a `TextCheck` passed over all of
    it. Some contents fit several types (an old Office file, text): the name then decides.
    """
    if head.startswith(b"%PDF-"):
        return _of("pdf")
    if head.startswith(b"\xff\xd8\xff"):
        return _of("jpeg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return _of("png")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return _of("gif")
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"WAVE"):
        return _of("webp" if head[8:12] == b"WEBP" else "wav")
    if head[4:8] == b"ftyp":
        return _iso_media(head)
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return _of("webm") if _ebml_doctype(head) == b"webm" else ()
    if (head[:3] == b"ID3" and len(head) >= 10 and head[3] in (2, 3, 4)) or _mpeg_audio_frame(head):
        return _of("mp3")
    if head.startswith(_OLE2):
        return _of("doc", "xls", "ppt")
    if head.startswith(b"PK\x03\x04"):
        key = office_kind(path) if path is not None else None
        return _of(key) if key else ()
    if text and not any(marker in head[:1024].lower() for marker in _MARKUP):
        return _of("txt", "csv")
    return ()


def choose(found: tuple[FileType, ...], extension: str) -> FileType:
    """The type a file is stored as, given what `detect` found and its name's extension ("" if none).

    Raises UploadRejected: `mismatch` when the name promises a kind that the contents are not,
    `not_allowed` when the contents are nothing we accept (or the name is no help in choosing).
    """
    extension = extension.lower()
    for t in found:
        if extension in t.extensions:
            return t
    if not extension and len(found) == 1:
        return found[0]
    named = _BY_EXTENSION.get(extension)
    if named is not None:
        hint = f" It looks like {_a(found[0].label)}." if len(found) == 1 else ""
        raise UploadRejected(
            "mismatch", f"The file's contents are not {_a(named.label)}, though its name ends .{extension}.{hint}"
        )
    raise UploadRejected("not_allowed", f"We cannot accept this kind of file. {accepted_summary()}")


def _a(label: str) -> str:
    """The label with its article: "a PDF document", "an MP3 audio file", "an Excel spreadsheet"."""
    spoken_vowel = label[0].lower() in "aeiou" or (label[0] == "M" and not label[1:2].islower())
    return f"{'an' if spoken_vowel else 'a'} {label}"


def _mpeg_audio_frame(head: bytes) -> bool:
    """An MPEG audio layer III frame header: sync bits and no reserved field values."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    bitrate, rate = head[2] >> 4, (head[2] >> 2) & 3
    return version != 1 and layer == 1 and bitrate != 15 and rate != 3


def _iso_media(head: bytes) -> tuple[FileType, ...]:
    """MP4, M4A or MOV from the ftyp box: the major brand decides, a compatible M4A brand allows .m4a."""
    major = head[8:12]
    end = min(int.from_bytes(head[:4], "big"), len(head))
    compatible = {head[i : i + 4] for i in range(16, end - 3, 4)}
    if major == b"M4A ":
        return _of("m4a")
    if major == b"qt  ":
        return _of("mov")
    if major in _MP4_BRANDS:
        return _of("mp4", "m4a") if b"M4A " in compatible else _of("mp4")
    return ()


def _vint(data: bytes, pos: int, marker: bool = False) -> tuple[int, int]:
    """An EBML variable-length integer at `pos`: (value, position after it); ValueError if malformed."""
    if pos >= len(data) or data[pos] == 0:
        raise ValueError("bad EBML number")
    length = 9 - data[pos].bit_length()
    value = int.from_bytes(data[pos : pos + length], "big")
    return (value if marker else value & ((1 << (7 * length)) - 1)), pos + length


def _ebml_doctype(head: bytes) -> bytes | None:
    """The DocType of an EBML header ("webm", "matroska"...), or None."""
    try:
        size, pos = _vint(head, 4)
        end = min(pos + size, len(head))
        while pos < end:
            element, pos = _vint(head, pos, marker=True)
            length, pos = _vint(head, pos)
            if element == 0x4282:
                return head[pos : pos + length].rstrip(b"\0")
            pos += length
    except ValueError:
        pass
    return None


# --- streaming checks -------------------------------------------------------------------

_C0_ALLOWED = b"\t\n\r\f"
_C0 = bytes(b for b in [*range(32), 0x7F] if b not in _C0_ALLOWED)
_C1 = re.compile(rb"\xc2[\x80-\x9f]")  # U+0080..U+009F in UTF-8


class TextCheck:
    """Whether all bytes fed so far are UTF-8 text with no control characters but tab, CR, LF and FF.

    Fed chunk by chunk as a file streams in; it gives up (and costs nothing more) at the first
    byte that is not text, which for binary files is almost always in the first chunk.
    """

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._last = 0
        self.ok = True

    def feed(self, chunk: bytes) -> None:
        if not self.ok or not chunk:
            return
        try:
            self._decoder.decode(chunk)
        except UnicodeDecodeError:
            self.ok = False
            return
        split_c1 = self._last == 0xC2 and 0x80 <= chunk[0] <= 0x9F
        if split_c1 or len(chunk.translate(None, _C0)) != len(chunk) or _C1.search(chunk):
            self.ok = False
        self._last = chunk[-1]

    def close(self) -> bool:
        """The verdict once the file has ended (a truncated UTF-8 sequence at the end is not text)."""
        if self.ok:
            try:
                self._decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                self.ok = False
        return self.ok


class Sniffer:
    """Collects what `detect` needs while a file streams past: its head and the text verdict."""

    def __init__(self) -> None:
        self._head = bytearray()
        self._text = TextCheck()

    def feed(self, chunk: bytes) -> None:
        if len(self._head) < HEAD_SIZE:
            self._head += chunk[: HEAD_SIZE - len(self._head)]
        self._text.feed(chunk)

    def detect(self, path: Path | None = None) -> tuple[FileType, ...]:
        return detect(bytes(self._head), path, self._text.close())
