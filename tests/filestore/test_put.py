"""Putting files in the store: every accepted kind goes in, everything else is refused and leaves nothing."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
import zlib

import pytest

from filestore import ALLOWED, FileSystemStore, UploadRejected

from . import samples
from .conftest import filesystem_only, stored_name
from .samples import SAMPLES, Trickle, files_under

MB = 1 << 20


def test_every_allowed_kind_has_a_sample():
    assert {t.key for t in ALLOWED} == set(SAMPLES)


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_every_allowed_kind_is_accepted(store, raw, key):
    name, data, media_type = SAMPLES[key]
    kept = store.put(io.BytesIO(data), name, 10 * MB)
    assert kept.media_type == media_type
    assert kept.sha256 == hashlib.sha256(data).hexdigest()
    assert kept.size == len(data)
    assert kept.crc32 == zlib.crc32(data)
    assert kept.extension == name.rsplit(".", 1)[1]
    assert kept.previewable == (key in {"jpeg", "png", "gif", "webp"})
    assert kept.label
    with store.open(kept.sha256) as f:
        assert f.read() == data
    assert raw.contents() == [stored_name(kept.sha256)]


def test_extension_is_matched_without_regard_to_case_and_alternatives_are_kept(store):
    assert store.put(io.BytesIO(samples.jpeg()), "PHOTO.JPG", MB).extension == "jpg"
    assert store.put(io.BytesIO(samples.jpeg()), "photo.jpeg", MB).extension == "jpeg"


def test_text_is_served_as_utf8(store):
    kept = store.put(io.BytesIO(b"a,b\n1,2\n"), "t.csv", MB)
    assert kept.content_type == "text/csv; charset=utf-8"
    assert store.put(io.BytesIO(samples.png()), "p.png", MB).content_type == "image/png"


def test_a_name_without_extension_is_fine_when_the_contents_say_what_they_are(store):
    kept = store.put(io.BytesIO(samples.png()), "screenshot", MB)
    assert (kept.media_type, kept.extension) == ("image/png", "png")


def test_an_ambiguous_file_without_extension_is_refused(store, raw):
    with pytest.raises(UploadRejected) as caught:
        store.put(io.BytesIO(b"just some words\n"), "README", MB)
    assert caught.value.reason == "not_allowed"
    assert raw.contents() == []


def test_an_mp4_that_says_it_is_also_m4a_may_be_named_either_way(store):
    data = samples.iso_media(b"mp42", b"mp42", b"isom", b"M4A ")
    assert store.put(io.BytesIO(data), "a.m4a", MB).media_type == "audio/mp4"
    assert store.put(io.BytesIO(data), "a.mp4", MB).media_type == "video/mp4"
    with pytest.raises(UploadRejected, match="not an M4A audio file"):
        store.put(io.BytesIO(samples.iso_media(b"isom", b"isom")), "a.m4a", MB)


def test_a_small_reader_is_read_to_the_end(store):
    kept = store.put(Trickle(samples.png(), step=3), "p.png", MB)
    assert kept.media_type == "image/png" and kept.size == len(samples.png())


# --- sizes ------------------------------------------------------------------------------


def test_too_large_stops_reading_at_the_limit_and_leaves_nothing(store, raw):
    source = Trickle(samples.pdf() + bytes(5 * MB), step=MB)
    with pytest.raises(UploadRejected) as caught:
        store.put(source, "big.pdf", 2 * MB)
    assert caught.value.reason == "too_large"
    assert "2 MB" in caught.value.message
    assert source.position == 2 * MB + 1  # read one byte past the limit, not the rest
    assert raw.contents() == []


def test_exactly_the_limit_is_accepted(store):
    data = samples.pdf()
    assert store.put(io.BytesIO(data), "a.pdf", len(data)).size == len(data)
    with pytest.raises(UploadRejected, match="too large"):
        store.put(io.BytesIO(data), "a.pdf", len(data) - 1)


def test_empty_file(store, raw):
    with pytest.raises(UploadRejected) as caught:
        store.put(io.BytesIO(b""), "empty.pdf", MB)
    assert caught.value.reason == "empty"
    assert "empty" in caught.value.message
    assert raw.contents() == []


# --- contents that do not match the name, or are not allowed -----------------------------

ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00" + bytes(100)
PE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(50) + b"PE\x00\x00" + bytes(100)
HTML = b"<!DOCTYPE html>\n<html><body><script>alert(document.cookie)</script></body></html>\n"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.mark.parametrize(
    ("name", "data", "reason", "message"),
    [
        ("invoice.pdf", ELF, "mismatch", "The file's contents are not a PDF document, though its name ends .pdf."),
        ("setup.pdf", PE, "mismatch", "not a PDF document"),
        ("cat.jpg", HTML, "mismatch", "The file's contents are not a JPEG image, though its name ends .jpg."),
        ("notes.txt", HTML, "mismatch", "not a plain text file, though its name ends .txt"),
        ("page.html", HTML, "not_allowed", "We cannot accept this kind of file."),
        ("notes.txt", b"  \n<HTML lang=en><p>hi", "mismatch", "not a plain text file"),
        ("logo.svg", SVG, "not_allowed", "We cannot accept this kind of file."),
        ("logo.txt", b'<?xml version="1.0"?>\n' + SVG, "mismatch", "not a plain text file"),
        ("logo.png", SVG, "mismatch", "not a PNG image"),
        ("archive.zip", samples.plain_zip(), "not_allowed", "You can upload documents (.pdf"),
        ("report.docx", samples.plain_zip(), "mismatch", "not a Word document"),
        ("macros.docx", samples.ooxml("docm"), "mismatch", "not a Word document"),
        ("report.docx", samples.ooxml("xlsx"), "mismatch", "not a Word document, though its name ends .docx"),
        ("report.odt", samples.odf("ods"), "mismatch", "It looks like an OpenDocument spreadsheet."),
        ("installer.msi", samples.ole(), "not_allowed", "We cannot accept"),
        ("old.pdf", samples.ole(), "mismatch", "not a PDF document"),
        (
            "photo.png",
            samples.jpeg(),
            "mismatch",
            "not a PNG image, though its name ends .png. It looks like a JPEG image.",
        ),
        ("photo.jpg", samples.png(), "mismatch", "It looks like a PNG image."),
        ("photo.exe", samples.png(), "not_allowed", "We cannot accept"),
        ("song.mp3", samples.wav(), "mismatch", "not an MP3 audio file"),
        ("film.webm", samples.ebml(b"matroska"), "mismatch", "not a WebM video"),
        ("film.mkv", samples.ebml(b"matroska"), "not_allowed", "We cannot accept"),
        ("clip.avi", b"RIFF\x00\x00\x00\x00AVI LIST" + bytes(64), "not_allowed", "We cannot accept"),
        ("photo.heic", samples.iso_media(b"heic", b"mif1", b"heic"), "not_allowed", "We cannot accept"),
        ("data.csv", "name,city\nJosé,Málaga\n".encode("latin-1"), "mismatch", "not a CSV file"),
        ("data.csv", b"a,b\n\x00\x01,2\n", "mismatch", "not a CSV file"),
        ("term.txt", b"colour \x1b[31mred\x1b[0m\n", "mismatch", "not a plain text file"),
        ("c1.txt", "next line\u0085here".encode(), "mismatch", "not a plain text file"),
        ("cut.txt", "ends mid-character \u2713".encode()[:-1], "mismatch", "not a plain text file"),
    ],
)
def test_refused(store, raw, name, data, reason, message):
    with pytest.raises(UploadRejected) as caught:
        store.put(io.BytesIO(data), name, 10 * MB)
    assert caught.value.reason == reason
    assert message in caught.value.message
    assert str(caught.value) == caught.value.message
    assert raw.contents() == []


def test_binary_after_a_long_text_start_is_not_text(store, raw):
    data = b"harmless line of text\n" * 100_000 + b"\x00\x01\x02 payload"
    assert len(data) > 2 * MB
    with pytest.raises(UploadRejected) as caught:
        store.put(io.BytesIO(data), "log.txt", 10 * MB)
    assert caught.value.reason == "mismatch"
    assert raw.contents() == []


def test_a_zip_with_a_huge_directory_is_not_read(store):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        for n in range(20_001):
            z.writestr(f"word/{n}", b"")
    with pytest.raises(UploadRejected, match="not a Word document"):
        store.put(io.BytesIO(out.getvalue()), "huge.docx", 100 * MB)


def test_a_broken_zip_is_refused_not_crashed_on(store):
    data = samples.ooxml("docx")
    broken = data[: len(data) // 2] + bytes(200) + data[-22:]
    with pytest.raises(UploadRejected, match="not a Word document"):
        store.put(io.BytesIO(broken), "broken.docx", MB)


# --- names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["../../etc/passwd.txt", "..\\..\\windows\\notes.txt", "/etc/notes.txt", "a\x00b.txt", "x" * 300 + ".txt"]
)
def test_hostile_names_never_become_paths(tmp_path, name):
    root = tmp_path / "deep" / "store"
    kept = FileSystemStore(root).put(io.BytesIO(b"hello\n"), name, MB)
    assert kept.media_type == "text/plain"
    assert [p.relative_to(tmp_path) for p in files_under(tmp_path)] == [
        (root / kept.sha256[:2] / kept.sha256[2:4] / kept.sha256).relative_to(tmp_path)
    ]


@pytest.mark.parametrize("name", ["", "/", "..", "../..", "\x00\x01", "   ", "dir/"])
def test_a_name_with_nothing_usable_is_refused_before_reading(store, raw, name):
    source = Trickle(samples.pdf())
    with pytest.raises(UploadRejected) as caught:
        store.put(source, name, MB)
    assert caught.value.reason == "bad_name"
    assert source.position == 0
    assert raw.contents() == []


# --- failures part-way ------------------------------------------------------------------


def test_a_stream_that_fails_midway_leaves_nothing(store, raw):
    source = Trickle(samples.pdf() + bytes(3 * MB), step=MB, fail_after=2 * MB)
    with pytest.raises(ConnectionResetError):
        store.put(source, "plan.pdf", 10 * MB)
    assert raw.contents() == []


@filesystem_only
@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_a_disk_error_leaves_nothing(store, raw, monkeypatch, failing):
    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, failing, broken)
    with pytest.raises(OSError, match="No space"):
        store.put(io.BytesIO(samples.pdf()), "plan.pdf", MB)
    monkeypatch.undo()
    assert raw.contents() == []


def test_a_failing_write_leaves_nothing(store, raw, monkeypatch):
    from filestore.store import IncomingFile

    original = IncomingFile.write

    def full(self, chunk):
        original(self, chunk[:10])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(IncomingFile, "write", full)
    with pytest.raises(OSError):
        store.put(io.BytesIO(samples.pdf()), "plan.pdf", MB)
    assert raw.contents() == []


def test_the_same_bytes_are_stored_once(store, raw):
    first = store.put(io.BytesIO(samples.pdf()), "plan.pdf", MB)
    second = store.put(io.BytesIO(samples.pdf()), "copy of plan.pdf", MB)
    assert first == second
    assert list(store.iter_hashes()) == [first.sha256]
    assert raw.contents() == [stored_name(first.sha256)]


def test_a_damaged_copy_is_replaced_by_a_fresh_upload(store, raw):
    kept = store.put(io.BytesIO(samples.pdf()), "plan.pdf", MB)
    raw.write(stored_name(kept.sha256), b"%PDF- truncated")
    assert not store.verify(kept.sha256)
    store.put(io.BytesIO(samples.pdf()), "plan.pdf", MB)
    assert store.verify(kept.sha256)


def test_max_bytes_must_be_positive(store):
    with pytest.raises(ValueError):
        store.put(io.BytesIO(b"x"), "a.txt", 0)


def test_an_incoming_file_is_taken_without_copying(store, raw):
    incoming = store.incoming()
    for start in range(0, len(samples.pdf()), 7):  # written in pieces, as a web framework does
        incoming.write(samples.pdf()[start : start + 7])
    incoming.seek(0)
    assert incoming.read(5) == b"%PDF-"
    stored = store.put(incoming, "plan.pdf", MB)
    assert stored.size == len(samples.pdf()) and store.verify(stored.sha256)
    assert stored.crc32 == zlib.crc32(samples.pdf())  # counted over the pieces as they came
    assert incoming.closed
    assert raw.contents() == [stored_name(stored.sha256)]


def test_an_incoming_file_never_put_leaves_nothing(store, raw):
    incoming = store.incoming()
    incoming.write(samples.pdf())
    incoming.close()
    assert raw.contents() == []


def test_an_incoming_file_too_large_is_refused(store, raw):
    incoming = store.incoming()
    incoming.write(samples.pdf() + b"0" * 2000)
    with pytest.raises(UploadRejected) as refused:
        store.put(incoming, "plan.pdf", 1000)
    assert refused.value.reason == "too_large"
    assert raw.contents() == []
