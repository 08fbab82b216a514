"""Reading stored files back, and finding the ones that went missing or changed on disk."""

from __future__ import annotations

import hashlib
import io
import os
import time

import pytest

from filestore import FileProblem, FileSystemStore, check_store, is_sha256

from . import samples

MB = 1 << 20
UNKNOWN = "0" * 64


@pytest.fixture
def kept(store):
    return [
        store.put(io.BytesIO(data), name, MB) for name, data in [("a.pdf", samples.pdf()), ("b.png", samples.png())]
    ]


def path_of(store: FileSystemStore, sha256: str):
    return store.root / sha256[:2] / sha256[2:4] / sha256


def test_open_size_exists(store, kept):
    pdf = kept[0]
    with store.open(pdf.sha256) as f:
        assert f.read() == samples.pdf()
    assert store.size(pdf.sha256) == len(samples.pdf())
    assert store.exists(pdf.sha256)
    assert not store.exists(UNKNOWN)


@pytest.mark.parametrize(
    "bad", ["../../etc/passwd", "A" * 64, "g" * 64, "0" * 63, "0" * 65, "", "ab/cd/" + "0" * 58, "0" * 63 + "\n"]
)
def test_anything_but_a_hash_is_refused_before_the_filesystem(store, bad, monkeypatch):
    def no_filesystem(*args, **kwargs):
        raise AssertionError("touched the filesystem")

    monkeypatch.setattr(os, "stat", no_filesystem)

    def delete(sha256):
        return store.delete_if_unchanged_since(sha256, time.time())

    for method in (store.open, store.exists, store.size, store.verify, delete):
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


def test_verify_finds_an_altered_and_a_missing_file(store, kept):
    pdf, png = kept
    assert store.verify(pdf.sha256) and store.verify(png.sha256)
    assert store.check([pdf.sha256, png.sha256]) == []

    path = path_of(store, pdf.sha256)
    path.write_bytes(path.read_bytes().replace(b"200 100", b"200 101"))
    path_of(store, png.sha256).unlink()

    assert not store.verify(pdf.sha256)
    assert not store.verify(png.sha256)
    assert store.check([pdf.sha256, png.sha256, pdf.sha256]) == [
        FileProblem(pdf.sha256, "altered"),
        FileProblem(png.sha256, "missing"),
    ]
    assert store.check() == [FileProblem(pdf.sha256, "altered")]  # what is on disk, against its own name
    assert str(FileProblem(png.sha256, "missing")) == f"{png.sha256}: missing"


def test_check_reports_a_malformed_expected_hash_as_missing(store):
    assert check_store(store, ["not-a-hash"]) == [FileProblem("not-a-hash", "missing")]


def test_iter_hashes_lists_stored_files_only(store, kept):
    (store.root / "tmp" / "upload-leftover").write_bytes(b"x")
    (store.root / "stray.txt").write_bytes(b"x")
    misplaced = hashlib.sha256(b"elsewhere").hexdigest()
    (store.root / "00" / "00").mkdir(parents=True)
    (store.root / "00" / "00" / misplaced).write_bytes(b"elsewhere")
    assert list(store.iter_hashes()) == sorted(k.sha256 for k in kept)


def test_an_empty_store(tmp_path):
    store = FileSystemStore(tmp_path / "nothing-yet")
    assert list(store.iter_hashes()) == []
    assert store.check() == []
    assert store.clean_temp() == 0


def test_clean_temp_removes_only_old_leftovers(store, kept):
    old, new = store.root / "tmp" / "upload-old", store.root / "tmp" / "upload-new"
    old.write_bytes(b"half")
    new.write_bytes(b"in flight")
    an_hour_ago = time.time() - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    assert store.clean_temp(older_than=600) == 1
    assert not old.exists() and new.exists()
