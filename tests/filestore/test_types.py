"""Type detection pieces on their own: the allow-list table and the streaming text check."""

from __future__ import annotations

import pytest

from filestore import ALLOWED, accept_attribute, detect, file_type
from filestore.types import TextCheck

from . import samples


def test_the_allow_list_is_consistent():
    extensions = [e for t in ALLOWED for e in t.extensions]
    assert len(extensions) == len(set(extensions))
    assert len({t.media_type for t in ALLOWED}) == len(ALLOWED)
    assert {t.key for t in ALLOWED if t.previewable} == {"jpeg", "png", "gif", "webp"}
    assert all(e == e.lower() and e.isalnum() for e in extensions)
    assert file_type("image/png").label == "PNG image"
    assert ".docx" in accept_attribute().split(",")


def test_detect_from_the_head_alone():
    assert [t.key for t in detect(samples.mp3(id3=False))] == ["mp3"]
    assert [t.key for t in detect(samples.ole())] == ["doc", "xls", "ppt"]
    assert detect(samples.ooxml("docx")) == ()  # a ZIP needs the whole file
    assert detect(b"plain words") == ()  # text needs the streaming check
    assert [t.key for t in detect(b"plain words", text=True)] == ["txt", "csv"]
    assert detect(b"\xff\xf1\x50\x80") == ()  # AAC in ADTS, not MPEG layer III
    assert detect(b"\x1a\x45\xdf\xa3\x8f") == ()  # an EBML header that ends early


def feed(chunks: list[bytes]) -> bool:
    check = TextCheck()
    for chunk in chunks:
        check.feed(chunk)
    return check.close()


@pytest.mark.parametrize(
    ("chunks", "ok"),
    [
        ([b"hello\tworld\r\n\f"], True),
        ([b"caf", "é".encode()[:1], "é".encode()[1:]], True),  # a character split across chunks
        ([b"\xef\xbb\xbfwith a BOM"], True),
        ([b"a\x00b"], False),
        ([b"a\x7f"], False),
        ([b"ok", b"\xc2", b"\x85"], False),  # U+0085 split across chunks
        ([b"ok", b"\xc2", b"\xa9"], True),  # U+00A9 split across chunks
        ([b"ends with half a character \xe2\x9c"], False),
        ([b"\xff\xfe"], False),
    ],
)
def test_text_check(chunks, ok):
    assert feed(chunks) is ok
