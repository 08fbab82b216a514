"""How many pixels an image has, read from its header without decoding it, and the limit on them.

A small file can hold a huge image (a PNG of zeros compresses a thousandfold), and decoding
costs memory by the pixel, not by the byte. So the size a decoder would allocate is read from
the headers it reads (PNG's IHDR, JPEG's frame headers, GIF's screen and first frame, WebP's
VP8/VP8L/VP8X chunk) and an image over the limit is refused at upload.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

from .errors import UploadRejected

# 50 megapixels: above the 48 MP of the largest full-resolution phone photos, and at most about
# 200 MB (four bytes a pixel) to decode for a PDF preview.
DEFAULT_MAX_PIXELS = 50_000_000

_JPEG_FRAMES = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_JPEG_STANDALONE = {0x01, *range(0xD0, 0xD8)}
_JPEG_SCAN, _JPEG_END = 0xDA, 0xD9


def check_pixels(path: Path, key: str, max_pixels: int) -> int:
    """The pixels of an image of kind `key` (width times height); UploadRejected if its size cannot
    be read or is over `max_pixels`."""
    with path.open("rb") as stream:
        size = image_size(stream, key)
    if size is None:
        raise UploadRejected("unreadable", "We could not read the image's width and height. It may be damaged.")
    width, height = size
    if width * height > max_pixels:
        raise UploadRejected(
            "too_many_pixels",
            f"The image is {width:,} by {height:,} pixels ({megapixels(width * height)} megapixels). "
            f"The limit is {megapixels(max_pixels)} megapixels: please save it at a smaller size.",
        )
    return width * height


def megapixels(pixels: int) -> str:
    """Pixels in megapixels for people: "144", "50", "12.3"."""
    return f"{pixels / 1e6:.1f}".removesuffix(".0")


def image_size(stream: BinaryIO, key: str) -> tuple[int, int] | None:
    """(width, height) of a "png", "jpeg", "gif" or "webp" image as a decoder would allocate it; None if unreadable."""
    reader = {"png": _png, "jpeg": _jpeg, "gif": _gif, "webp": _webp}[key]
    try:
        size = reader(stream)
    except (struct.error, ValueError, IndexError):  # cut short or malformed, however it fails
        return None
    return size if size and size[0] > 0 and size[1] > 0 else None


def _png(stream: BinaryIO) -> tuple[int, int] | None:
    stream.seek(8)
    length, kind, width, height = struct.unpack(">I4sII", stream.read(16))
    return (width, height) if length == 13 and kind == b"IHDR" else None


def _jpeg(stream: BinaryIO) -> tuple[int, int] | None:
    """The largest frame header before the first scan (a decoder takes the last, a liar puts a small one first)."""
    stream.seek(2)
    largest = None
    while True:
        byte = stream.read(1)
        if byte != b"\xff":
            return None if byte else largest  # markers follow each other; anything else is damage
        marker = stream.read(1)
        while marker == b"\xff":  # fill bytes
            marker = stream.read(1)
        if not marker:
            return largest
        code = marker[0]
        if code in _JPEG_STANDALONE:
            continue
        if code in (_JPEG_SCAN, _JPEG_END):
            return largest
        (length,) = struct.unpack(">H", stream.read(2))
        if length < (8 if code in _JPEG_FRAMES else 2):
            return None
        if code in _JPEG_FRAMES:
            _, height, width = struct.unpack(">BHH", stream.read(5))
            if largest is None or width * height > largest[0] * largest[1]:
                largest = (width, height)
            stream.seek(length - 7, 1)
        else:
            stream.seek(length - 2, 1)


def _gif(stream: BinaryIO) -> tuple[int, int] | None:
    """The logical screen, grown to the first frame as decoders grow it."""
    stream.seek(6)
    width, height, flags = struct.unpack("<HHB", stream.read(5))
    stream.seek(2, 1)
    if flags & 0x80:
        stream.seek(3 << ((flags & 7) + 1), 1)  # the global colour table
    while (introducer := stream.read(1)) == b"!":  # extensions: a label, then sub-blocks up to an empty one
        stream.seek(1, 1)
        while block := stream.read(1)[0]:
            stream.seek(block, 1)
    if introducer != b",":
        return None
    left, top, frame_width, frame_height = struct.unpack("<HHHH", stream.read(8))
    return max(width, left + frame_width), max(height, top + frame_height)


def _webp(stream: BinaryIO) -> tuple[int, int] | None:
    stream.seek(12)
    kind, _ = struct.unpack("<4sI", stream.read(8))
    data = stream.read(10)
    if kind == b"VP8X":
        return int.from_bytes(data[4:7], "little") + 1, int.from_bytes(data[7:10], "little") + 1
    if kind == b"VP8L" and data[0] == 0x2F:
        bits = int.from_bytes(data[1:5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if kind == b"VP8 " and data[3:6] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[6:10])
        return width & 0x3FFF, height & 0x3FFF
    return None
