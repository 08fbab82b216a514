"""Deleting stored files safely: only files not stored or reused since a cutoff, and never one that
an upload of the same bytes reuses at the same moment, whichever way the two interleave.

The interleavings are the filesystem's own here (its rename-aside); the bucket's, by versions,
are in test_s3.py.
"""

from __future__ import annotations

import io
import os
import time

from filestore import FileSystemStore
from filestore import store as store_module

from . import samples
from .conftest import filesystem_only

MB = 1 << 20


def _age(store: FileSystemStore, sha256: str, seconds: float) -> None:
    path = store.root / sha256[:2] / sha256[2:4] / sha256
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_only_files_unchanged_since_the_cutoff_are_deleted(store, raw):
    old = store.put(io.BytesIO(samples.pdf()), "old.pdf", MB)
    cutoff = raw.age(old.sha256)
    new = store.put(io.BytesIO(samples.png()), "new.png", MB)
    assert store.delete_if_unchanged_since(new.sha256, cutoff) is False
    assert store.delete_if_unchanged_since(old.sha256, cutoff) is True
    assert list(store.iter_hashes()) == [new.sha256]
    assert not store.exists(old.sha256)
    assert not any(store.temp_dir.iterdir())  # nothing left aside


def test_storing_the_same_bytes_again_refreshes_the_files_time(store, raw):
    first = store.put(io.BytesIO(samples.pdf()), "plan.pdf", MB)
    cutoff = raw.age(first.sha256)
    store.put(io.BytesIO(samples.pdf()), "copy.pdf", MB)
    assert store.delete_if_unchanged_since(first.sha256, cutoff) is False
    assert store.verify(first.sha256)


@filesystem_only
def test_a_reuse_just_before_the_file_is_moved_aside_puts_it_back(store, monkeypatch):
    """The sweep looked (old time), then an upload refreshed the time, then the sweep moved the file."""
    kept = store.put(io.BytesIO(samples.pdf()), "plan.pdf", MB)
    _age(store, kept.sha256, 3 * 86400)
    real_rename = os.rename

    def upload_then_rename(source, target):
        store.put(io.BytesIO(samples.pdf()), "same.pdf", MB)
        real_rename(source, target)

    monkeypatch.setattr(store_module.os, "rename", upload_then_rename)
    assert store.delete_if_unchanged_since(kept.sha256, time.time() - 86400) is False
    assert store.verify(kept.sha256)


@filesystem_only
def test_a_reuse_just_after_the_file_is_moved_aside_stores_its_own_copy(store, monkeypatch):
    """The upload saw the file, then the sweep moved it away and deleted it, then the upload
    tried to refresh its time: it finds it gone and stores its own bytes instead."""
    kept = store.put(io.BytesIO(samples.pdf()), "plan.pdf", MB)
    _age(store, kept.sha256, 3 * 86400)
    real_utime = os.utime
    swept = []

    def sweep_then_refresh(path, *args, **kwargs):
        swept.append(store.delete_if_unchanged_since(kept.sha256, time.time() - 86400))
        real_utime(path, *args, **kwargs)

    monkeypatch.setattr(store_module.os, "utime", sweep_then_refresh)
    again = store.put(io.BytesIO(samples.pdf()), "same.pdf", MB)
    assert swept == [True] and again.sha256 == kept.sha256
    assert store.verify(kept.sha256)
    assert not any((store.root / "tmp").iterdir())
