"""Images over the pixel limit are refused at upload, their size read from the header as a decoder reads it."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from filestore import DEFAULT_MAX_PIXELS, UploadRejected, image_size

from . import samples

MB = 1 << 20
FORMATS = {"png": "PNG", "jpeg": "JPEG", "gif": "GIF", "webp": "WEBP"}


def picture(key: str, width: int = 37, height: int = 23, **options) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 40)).save(out, FORMATS[key], **options)
    return out.getvalue()


def size_of(data: bytes, key: str) -> tuple[int, int] | None:
    return image_size(io.BytesIO(data), key)


@pytest.mark.parametrize(
    ("key", "options"),
    [
        ("png", {}),
        ("jpeg", {}),
        ("jpeg", {"progressive": True}),
        ("jpeg", {"exif": b"Exif\x00\x00" + bytes(60_000)}),  # a big EXIF block pushes the frame header far in
        ("gif", {}),
        ("webp", {}),  # lossy: VP8
        ("webp", {"lossless": True}),  # VP8L
        ("webp", {"exif": b"Exif\x00\x00" + bytes(100)}),  # extended: VP8X
    ],
)
def test_the_size_is_read_as_pillow_reads_it(key, options):
    data = picture(key, **options)
    assert size_of(data, key) == Image.open(io.BytesIO(data)).size == (37, 23)


def test_the_samples_sizes_are_read():
    assert size_of(samples.png(), "png") == (2, 2)
    assert size_of(samples.jpeg(), "jpeg") == (8, 8)
    assert size_of(samples.gif(), "gif") == (1, 1)
    assert size_of(samples.webp(), "webp") is not None


def test_a_144_megapixel_png_of_a_few_kilobytes_is_refused(store, raw):
    data = samples.huge_png()
    assert len(data) < 20_000
    with pytest.raises(UploadRejected) as caught:
        store.put(io.BytesIO(data), "poster.png", 10 * MB)
    assert caught.value.reason == "too_many_pixels"
    assert caught.value.message == (
        "The image is 12,000 by 12,000 pixels (144 megapixels). "
        "The limit is 50 megapixels: please save it at a smaller size."
    )
    assert raw.contents() == []


def test_the_limit_is_the_callers(store):
    data = picture("png", 2_500, 1_000)
    assert store.put(io.BytesIO(data), "p.png", MB, max_pixels=2_500_000).size == len(data)  # exactly at the limit
    with pytest.raises(UploadRejected, match=r"\(2.5 megapixels\). The limit is 2 megapixels"):
        store.put(io.BytesIO(data), "p.png", MB, max_pixels=2_000_000)
    assert DEFAULT_MAX_PIXELS == 50_000_000


def _sof(width: int, height: int) -> bytes:
    return b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"


def test_a_jpeg_with_a_second_larger_frame_header_is_measured_by_the_larger():
    small = samples.jpeg()
    at = small.index(b"\xff\xc0")
    lying = small[:at] + _sof(8, 8) + _sof(30_000, 30_000) + small[at + len(_sof(8, 8)) :]
    assert size_of(lying, "jpeg") == (30_000, 30_000)


def test_a_gif_whose_first_frame_outgrows_its_screen_is_measured_by_the_frame(store):
    data = bytearray(samples.gif())
    frame = data.index(b",")
    data[frame + 5 : frame + 9] = struct.pack("<HH", 20_000, 20_000)
    assert size_of(bytes(data), "gif") == (20_000, 20_000)
    with pytest.raises(UploadRejected, match="400 megapixels"):
        store.put(io.BytesIO(bytes(data)), "tiny.gif", MB)


def test_a_webp_canvas_over_the_limit_is_refused(store):
    vp8x = b"VP8X" + struct.pack("<I", 10) + bytes(4) + (16_383).to_bytes(3, "little") * 2
    data = b"RIFF" + struct.pack("<I", 4 + len(vp8x)) + b"WEBP" + vp8x
    assert size_of(data, "webp") == (16_384, 16_384)
    with pytest.raises(UploadRejected, match="268.4 megapixels"):
        store.put(io.BytesIO(data), "canvas.webp", MB)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("cut.png", b"\x89PNG\r\n\x1a\n"),
        ("cut.png", samples.png()[:20]),
        ("cut.jpg", b"\xff\xd8\xff\xe0\x00"),
        ("noframe.jpg", b"\xff\xd8\xff\xda\x00\x08" + bytes(20)),
        ("loop.jpg", b"\xff\xd8\xff\xc0\x00\x02" + bytes(20)),  # a frame header too short to hold a size
        ("cut.gif", b"GIF89a\x01\x00"),
        ("zero.gif", b"GIF89a\x00\x00\x00\x00\x00\x00\x00;"),
        ("cut.webp", b"RIFF\x10\x00\x00\x00WEBPVP8 "),
    ],
)
def test_an_image_whose_size_cannot_be_read_is_refused(store, raw, name, data):
    with pytest.raises(UploadRejected) as caught:
        store.put(io.BytesIO(data), name, MB)
    assert caught.value.reason == "unreadable"
    assert caught.value.message == "We could not read the image's width and height. It may be damaged."
    assert raw.contents() == []
