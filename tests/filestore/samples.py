"""Tiny but real files of every accepted kind, built here so the tests carry no binary fixtures."""

from __future__ import annotations

import base64
import io
import struct
import wave
import zipfile
import zlib
from pathlib import Path


def pdf() -> bytes:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R >>",
        b"<< /Length 0 >>\nstream\n\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def huge_png(width: int = 12_000, height: int = 12_000) -> bytes:
    """A real, valid PNG of `width` by `height` black pixels (144 megapixels by default) in a few kilobytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = bytes(1 + (width + 7) // 8)  # filter byte, then one bit a pixel, all zero
    packer = zlib.compressobj(9)
    pixels = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # greyscale, one bit deep
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def jpeg() -> bytes:
    """An 8x8 mid-grey baseline JPEG: one DC coefficient of 0 and an end-of-block, Huffman coded."""

    def segment(marker: int, data: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(data) + 2) + data

    one_code = bytes([1] + [0] * 15) + b"\x00"  # one code of length 1, for symbol 0
    return b"".join(
        [
            b"\xff\xd8",
            segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
            segment(0xDB, b"\x00" + b"\x01" * 64),
            segment(0xC0, struct.pack(">BHHB", 8, 8, 8, 1) + b"\x01\x11\x00"),
            segment(0xC4, b"\x00" + one_code),
            segment(0xC4, b"\x10" + one_code),
            segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),
            b"\x3f",  # DC "0" (difference 0), AC "0" (end of block), padded with ones
            b"\xff\xd9",
        ]
    )


def gif() -> bytes:
    return (
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00"
        b"!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
    )


def webp() -> bytes:
    return base64.b64decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")  # 1x1 lossless


def mp3(id3: bool = True) -> bytes:
    frame = b"\xff\xfb\x90\x64" + bytes(413)  # MPEG-1 layer III, 128 kbit/s, 44.1 kHz: 417 bytes
    tag = b"ID3\x04\x00\x00\x00\x00\x00\x00" if id3 else b""
    return tag + frame * 3


def wav() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(bytes(800))
    return out.getvalue()


def iso_media(major: bytes, *compatible: bytes) -> bytes:
    """An ISO base media file (MP4, M4A, MOV): ftyp, free and an empty mdat box."""
    brands = b"".join(compatible)
    ftyp = struct.pack(">I", 16 + len(brands)) + b"ftyp" + major + b"\x00\x00\x02\x00" + brands
    return ftyp + struct.pack(">I", 8) + b"free" + struct.pack(">I", 8) + b"mdat"


def ebml(doctype: bytes = b"webm") -> bytes:
    elements = (
        b"\x42\x86\x81\x01"  # EBMLVersion 1
        b"\x42\xf7\x81\x01"  # EBMLReadVersion 1
        b"\x42\xf2\x81\x04"  # EBMLMaxIDLength 4
        b"\x42\xf3\x81\x08"  # EBMLMaxSizeLength 8
        + b"\x42\x82"
        + bytes([0x80 | len(doctype)])
        + doctype
        + b"\x42\x87\x81\x02"  # DocTypeVersion 2
        b"\x42\x85\x81\x02"  # DocTypeReadVersion 2
    )
    header = b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(elements)]) + elements
    info = b"\x15\x49\xa9\x66\x87" + b"\x2a\xd7\xb1\x83\x0f\x42\x40"  # Info { TimecodeScale 1000000 }
    return header + b"\x18\x53\x80\x67\x01\xff\xff\xff\xff\xff\xff\xff" + info


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/{part}" ContentType="{content_type}"/></Types>'
)
_OOXML = {
    "docx": ("word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
    "xlsx": ("xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
    "pptx": (
        "ppt/presentation.xml",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
    ),
    "docm": ("word/document.xml", "application/vnd.ms-word.document.macroEnabled.main+xml"),
}


def ooxml(kind: str) -> bytes:
    part, content_type = _OOXML[kind]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES.format(part=part, content_type=content_type))
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            f'Target="{part}"/></Relationships>',
        )
        z.writestr(part, '<?xml version="1.0" encoding="UTF-8"?><root/>')
    return out.getvalue()


def odf(kind: str) -> bytes:
    mimetype = {"odt": "text", "ods": "spreadsheet", "odp": "presentation"}[kind]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mimetype", f"application/vnd.oasis.opendocument.{mimetype}", compress_type=zipfile.ZIP_STORED)
        z.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
            '<manifest:file-entry manifest:full-path="/" '
            f'manifest:media-type="application/vnd.oasis.opendocument.{mimetype}"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
            "</manifest:manifest>",
        )
        z.writestr("content.xml", '<?xml version="1.0" encoding="UTF-8"?><office:document-content/>')
    return out.getvalue()


def plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("notes.txt", "not an office file")
    return out.getvalue()


def ole(stream_name: str = "WordDocument") -> bytes:
    """A compound file (old Office): header, one FAT sector, one directory sector."""
    free, end, fat_sector = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
    header = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + bytes(16)
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + bytes(6)
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 0x1000, end, 0, end, 0)
        + struct.pack("<109I", 0, *([free] * 108))
    )
    fat = struct.pack("<128I", fat_sector, end, *([free] * 126))

    def entry(name: str, kind: int, child: int = free) -> bytes:
        encoded = (name + "\0").encode("utf-16-le")
        return (
            encoded.ljust(64, b"\0")
            + struct.pack("<HBB", len(encoded), kind, 1)
            + struct.pack("<III", free, free, child)
            + bytes(16 + 4 + 16)
            + struct.pack("<IIQ", end if kind == 5 else 0, 0, 0)
        )

    directory = entry("Root Entry", 5, child=1) + entry(stream_name, 2) + bytes(128 * 2)
    return header + fat + directory


# name -> (declared file name, contents, media type)
SAMPLES: dict[str, tuple[str, bytes, str]] = {
    "pdf": ("plan.pdf", pdf(), "application/pdf"),
    "docx": (
        "Risk assessment.docx",
        ooxml("docx"),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "xlsx": ("budget.xlsx", ooxml("xlsx"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "pptx": (
        "talk.pptx",
        ooxml("pptx"),
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    "odt": ("report.odt", odf("odt"), "application/vnd.oasis.opendocument.text"),
    "ods": ("budget.ods", odf("ods"), "application/vnd.oasis.opendocument.spreadsheet"),
    "odp": ("talk.odp", odf("odp"), "application/vnd.oasis.opendocument.presentation"),
    "doc": ("old.doc", ole(), "application/msword"),
    "xls": ("old.xls", ole("Workbook"), "application/vnd.ms-excel"),
    "ppt": ("old.ppt", ole("PowerPoint Document"), "application/vnd.ms-powerpoint"),
    "txt": ("notes.txt", "Workshop notes\r\n\tLine two: café ✓\f\n".encode(), "text/plain"),
    "csv": ("people.csv", "\ufeffname,age\nAda,36\n".encode(), "text/csv"),
    "jpeg": ("photo.jpg", jpeg(), "image/jpeg"),
    "png": ("chart.png", png(), "image/png"),
    "gif": ("dot.gif", gif(), "image/gif"),
    "webp": ("dot.webp", webp(), "image/webp"),
    "mp3": ("interview.mp3", mp3(), "audio/mpeg"),
    "m4a": ("voice.m4a", iso_media(b"M4A ", b"M4A ", b"mp42", b"isom"), "audio/mp4"),
    "wav": ("clip.wav", wav(), "audio/wav"),
    "mp4": ("event.mp4", iso_media(b"isom", b"isom", b"iso2", b"avc1", b"mp41"), "video/mp4"),
    "mov": ("phone.mov", iso_media(b"qt  ", b"qt  "), "video/quicktime"),
    "webm": ("screen.webm", ebml(), "video/webm"),
}


def files_under(path: Path) -> list[Path]:
    """Every file below `path`; directories, even if left behind, do not count."""
    return sorted(p for p in path.rglob("*") if not p.is_dir())


class Trickle(io.RawIOBase):
    """A readable that hands out at most `step` bytes per read and can fail after `fail_after` bytes."""

    def __init__(self, data: bytes, step: int = 7, fail_after: int | None = None) -> None:
        self.data, self.step, self.fail_after, self.position = data, step, fail_after, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.fail_after is not None and self.position >= self.fail_after:
            raise ConnectionResetError("client went away")
        size = self.step if size < 0 else min(size, self.step)
        chunk = self.data[self.position : self.position + size]
        self.position += len(chunk)
        return chunk
