"""Small but real files for the demo's evidence: text PDFs, PNG pictures and CSV tables."""

from __future__ import annotations

import struct
import textwrap
import zlib


def pdf_document(title: str, paragraphs: list[str]) -> bytes:
    """A one-page PDF with a title and wrapped paragraphs in Helvetica."""
    lines: list[tuple[int, str]] = [(18, title), (11, "")]
    for paragraph in paragraphs:
        lines += [(11, line) for line in textwrap.wrap(paragraph, 90)] + [(11, "")]
    commands = ["BT", "50 790 Td", "14 TL"]
    for size, line in lines[:50]:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        commands.append(f"/F1 {size} Tf ({escaped}) Tj T*")
    commands.append("ET")
    content = "\n".join(commands).encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def png_picture(width: int, height: int, seed: int) -> bytes:
    """A PNG of soft bands and circles, different for each seed: a stand-in for a photo."""
    palette = [(236, 112, 99), (93, 173, 226), (88, 214, 141), (245, 176, 65), (165, 105, 189)]
    base = palette[seed % len(palette)]
    accent = palette[(seed + 2) % len(palette)]
    circles = [((seed * 37 + i * 71) % width, (seed * 53 + i * 29) % height, 12 + (seed + i) % 20) for i in range(6)]
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        shade = 0.6 + 0.4 * y / height
        for x in range(width):
            colour = tuple(int(c * shade) for c in base)
            if any((x - cx) ** 2 + (y - cy) ** 2 < r * r for cx, cy, r in circles):
                colour = accent
            rows += bytes(colour)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + chunk(b"IEND", b"")
    )


def csv_table(rows: list[list[str]]) -> bytes:
    return "\n".join(",".join(f'"{cell}"' if "," in cell else cell for cell in row) for row in rows).encode() + b"\n"
