"""Finished exports are kept by name beside the evidence, replaced whole, and never mistaken for evidence."""

from __future__ import annotations

import io

import pytest

from filestore import check_export_name


def test_an_export_is_kept_read_back_and_replaced(store):
    assert store.put_export("abc123.pdf", io.BytesIO(b"%PDF first")) == 10
    assert store.put_export("abc123.pdf", io.BytesIO(b"%PDF second")) == 11
    with store.open_export("abc123.pdf") as stream:
        assert stream.read() == b"%PDF second"
    assert list(store.export_names()) == ["abc123.pdf"]
    assert list(store.iter_hashes()) == []  # not evidence: the sweep and verify never see it


def test_a_deleted_export_is_gone_and_a_second_delete_says_so(store):
    store.put_export("abc123.zip", io.BytesIO(b"PK"))
    assert store.delete_export("abc123.zip")
    assert not store.delete_export("abc123.zip")
    with pytest.raises(KeyError):
        store.open_export("abc123.zip")
    assert list(store.export_names()) == []


def test_a_failed_write_leaves_the_old_export_and_no_temporary_file(store):
    store.put_export("abc123.pdf", io.BytesIO(b"%PDF kept"))

    class Broken(io.RawIOBase):
        def readable(self):
            return True

        def read(self, size=-1):
            raise OSError("the render died")

    with pytest.raises(OSError):
        store.put_export("abc123.pdf", Broken())
    with store.open_export("abc123.pdf") as stream:
        assert stream.read() == b"%PDF kept"
    assert store.clean_temp(older_than=0) == 0


@pytest.mark.parametrize("name", ["", "../escape.pdf", "a/b.pdf", ".hidden", "a..b", "x" * 129, "sp ace.pdf"])
def test_a_name_that_could_be_a_path_is_refused(store, name):
    with pytest.raises(ValueError):
        check_export_name(name)
    with pytest.raises(ValueError):
        store.put_export(name, io.BytesIO(b"x"))


def test_a_restored_file_is_kept_under_its_hash_and_wrong_bytes_are_refused(store):
    import hashlib

    data = b"a witness testimony from the Larkspur Arts Centre"
    sha256 = hashlib.sha256(data).hexdigest()
    with pytest.raises(ValueError):
        store.restore_file(sha256, io.BytesIO(data + b" altered"))
    assert not store.exists(sha256)
    assert store.restore_file(sha256, io.BytesIO(data)) == len(data)
    assert store.verify(sha256)
