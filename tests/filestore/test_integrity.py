"""Reading stored files back, and finding the ones that went missing or changed underneath."""

from __future__ import annotations

import hashlib
import io
import os
import time

import pytest

from filestore import FileProblem, FileSystemStore, check_store, is_sha256

from . import samples
from .conftest import stored_name

MB = 1 << 20
UNKNOWN = "0" * 64


@pytest.fixture
def kept(store):
    return [
        store.put(io.BytesIO(data), name, MB) for name, data in [("a.pdf", samples.pdf()), ("b.png", samples.png())]
    ]


def test_open_size_exists(store, kept):
    pdf = kept[0]
    with store.open(pdf.sha256) as f:
        assert f.read() == samples.pdf()
    assert store.size(pdf.sha256) == len(samples.pdf())
    assert store.exists(pdf.sha256)
    assert not store.exists(UNKNOWN)


def test_a_stored_file_reads_in_pieces(store, kept):
    with store.open(kept[0].sha256) as f:
        assert f.read(5) == b"%PDF-"
        assert f.read(3) == samples.pdf()[5:8]
        assert f.read() == samples.pdf()[8:]
        assert f.read(10) == b""


@pytest.mark.parametrize(
    "bad", ["../../etc/passwd", "A" * 64, "g" * 64, "0" * 63, "0" * 65, "", "ab/cd/" + "0" * 58, "0" * 63 + "\n"]
)
def test_anything_but_a_hash_is_refused_before_the_storage_is_touched(store, raw, bad):
    def delete(sha256):
        return store.delete_if_unchanged_since(sha256, time.time())

    def restore(sha256):
        return store.restore_file(sha256, io.BytesIO(b"x"))

    with raw.untouchable():
        for method in (store.open, store.exists, store.size, store.verify, delete, restore):
            with pytest.raises(ValueError):
                method(bad)
    assert not is_sha256(bad)


def test_unknown_hashes(store):
    with pytest.raises(KeyError):
        store.open(UNKNOWN)
    with pytest.raises(KeyError):
        store.size(UNKNOWN)
    assert store.verify(UNKNOWN) is False
    assert store.delete_if_unchanged_since(UNKNOWN, time.time()) is False  # nothing to do


def test_verify_finds_an_altered_and_a_missing_file(store, raw, kept):
    pdf, png = kept
    assert store.verify(pdf.sha256) and store.verify(png.sha256)
    assert check_store(store, [pdf.sha256, png.sha256]) == []

    raw.write(stored_name(pdf.sha256), samples.pdf().replace(b"200 100", b"200 101"))
    raw.remove(stored_name(png.sha256))

    assert not store.verify(pdf.sha256)
    assert not store.verify(png.sha256)
    assert check_store(store, [pdf.sha256, png.sha256, pdf.sha256]) == [
        FileProblem(pdf.sha256, "altered"),
        FileProblem(png.sha256, "missing"),
    ]
    assert check_store(store) == [FileProblem(pdf.sha256, "altered")]  # what is stored, against its own name
    assert str(FileProblem(png.sha256, "missing")) == f"{png.sha256}: missing"


def test_check_reports_a_malformed_expected_hash_as_missing(store):
    assert check_store(store, ["not-a-hash"]) == [FileProblem("not-a-hash", "missing")]


def test_the_file_system_store_checks_itself(tmp_path):
    store = FileSystemStore(tmp_path / "store")
    kept = store.put(io.BytesIO(samples.pdf()), "a.pdf", MB)
    assert store.check([kept.sha256, UNKNOWN]) == [FileProblem(UNKNOWN, "missing")]


def test_iter_hashes_lists_stored_files_only(store, raw, kept):
    raw.write("tmp/upload-leftover", b"x")
    raw.write("stray.txt", b"x")
    raw.write(f"{stored_name('0' * 64)}.part", b"x")
    misplaced = hashlib.sha256(b"elsewhere").hexdigest()
    raw.write(f"00/00/{misplaced}", b"elsewhere")
    store.put_export("abc123.pdf", io.BytesIO(b"%PDF export"))
    assert list(store.iter_hashes()) == sorted(k.sha256 for k in kept)


def test_an_empty_store(store):
    assert list(store.iter_hashes()) == []
    assert check_store(store) == []
    assert store.clean_temp() == 0


def test_clean_temp_removes_only_old_leftovers(store, kept):
    old, new = store.temp_dir / "upload-old", store.temp_dir / "upload-new"
    old.write_bytes(b"half")
    new.write_bytes(b"in flight")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    assert store.clean_temp(older_than=600) == 1
    assert not old.exists() and new.exists()
