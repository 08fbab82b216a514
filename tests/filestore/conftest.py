"""Every store test runs on both stores: a folder of this machine and a bucket of moto's S3 server.

`raw` reaches behind the store's back, as a disk fault or an operator would: what the store
holds, writing and removing its files, and making a file older than a cutoff. A test that is
about the filesystem alone says so with `@filesystem_only`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from filestore import FileSystemStore
from filestore.s3 import S3Store
from tests.s3_server import s3_client

from .samples import files_under

STORES = ["filesystem", "s3"]
filesystem_only = pytest.mark.parametrize("store", ["filesystem"], indirect=True)


def stored_name(sha256: str) -> str:
    """Where a store keeps the file of this hash, inside its folder or under its prefix."""
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture(params=STORES)
def store(request, root: Path, tmp_path: Path) -> FileSystemStore | S3Store:
    if request.param == "filesystem":
        return FileSystemStore(root)
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = request.getfixturevalue("s3_bucket")
    return S3Store.connect(bucket, "evidence", endpoint_url=endpoint, temp_dir=tmp_path / "uploads")


class FolderBehind:
    """Behind a FileSystemStore: its folder."""

    def __init__(self, store: FileSystemStore, monkeypatch: pytest.MonkeyPatch) -> None:
        self.store, self.monkeypatch = store, monkeypatch

    def contents(self) -> list[str]:
        """Every file in the store's folder (temporary ones too), as paths relative to it."""
        return [path.relative_to(self.store.root).as_posix() for path in files_under(self.store.root)]

    def write(self, name: str, data: bytes) -> None:
        path = self.store.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def remove(self, name: str) -> None:
        (self.store.root / name).unlink()

    def age(self, sha256: str) -> float:
        """Make the file three days old; a cutoff it is older than, and anything written from now on newer."""
        then = time.time() - 3 * 86400
        os.utime(self.store.root / stored_name(sha256), (then, then))
        return time.time() - 86400

    @contextmanager
    def untouchable(self) -> Iterator[None]:
        def no_filesystem(*args, **kwargs):
            raise AssertionError("touched the filesystem")

        with self.monkeypatch.context() as patch:
            patch.setattr(os, "stat", no_filesystem)
            yield


class BucketBehind:
    """Behind an S3Store: its bucket, through a client of its own, and its local temporary folder."""

    def __init__(self, store: S3Store, endpoint: str) -> None:
        self.store, self.client = store, s3_client(endpoint)
        self.base = f"{store.prefix}/" if store.prefix else ""

    def contents(self) -> list[str]:
        """Every current object under the prefix, as keys relative to it, and every local temporary
        file, as `tmp/<name>`."""
        keys = [
            entry["Key"].removeprefix(self.base)
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.store.bucket)
            for entry in page.get("Contents", [])
        ]
        temporary = [f"tmp/{path.name}" for path in files_under(self.store.temp_dir)]
        return sorted(keys) + temporary

    def versions(self, sha256: str) -> list[dict]:
        """Every version of the file's object, newest first."""
        key = self.base + stored_name(sha256)
        response = self.client.list_object_versions(Bucket=self.store.bucket, Prefix=key)
        return [version for version in response.get("Versions", []) if version["Key"] == key]

    def write(self, name: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.store.bucket, Key=self.base + name, Body=data)

    def remove(self, name: str) -> None:
        self.client.delete_object(Bucket=self.store.bucket, Key=self.base + name)

    def age(self, sha256: str) -> float:
        """A cutoff the file is older than, and anything written from now on newer: the whole second
        after it was written (the service keeps times to the second), once that second has come."""
        written = self.client.head_object(Bucket=self.store.bucket, Key=self.base + stored_name(sha256))
        cutoff = written["LastModified"].timestamp() + 1
        time.sleep(max(0.0, cutoff - time.time()) + 0.05)
        return cutoff

    @contextmanager
    def untouchable(self) -> Iterator[None]:
        def no_request(**kwargs):
            raise AssertionError("sent a request to the object store")

        events = self.store.client.meta.events
        events.register("before-send.s3", no_request, unique_id="untouchable")
        try:
            yield
        finally:
            events.unregister("before-send.s3", unique_id="untouchable")


@pytest.fixture
def raw(request, store, monkeypatch) -> FolderBehind | BucketBehind:
    if isinstance(store, FileSystemStore):
        return FolderBehind(store, monkeypatch)
    return BucketBehind(store, request.getfixturevalue("s3_endpoint"))
