"""What only the object store has: its URL, its keys, versions that let a reused file survive the
sweep, the bucket's readiness and objects read as streams. Against moto's real S3 server."""

from __future__ import annotations

import io
import time

import pytest
from boto3.exceptions import S3UploadFailedError

from filestore.s3 import S3Store, parse_s3_url
from tests.s3_server import new_bucket, remove_bucket

from . import samples
from .conftest import BucketBehind, stored_name

MB = 1 << 20


@pytest.fixture
def connect(s3_endpoint, tmp_path):
    """`connect(bucket, prefix)`: a store on the test server, as the application makes one."""

    def connected(bucket: str, prefix: str = "evidence", cls: type[S3Store] = S3Store) -> S3Store:
        return cls.connect(bucket, prefix, endpoint_url=s3_endpoint, temp_dir=tmp_path / "uploads")

    return connected


@pytest.fixture
def store(connect, s3_bucket) -> S3Store:
    return connect(s3_bucket)


@pytest.fixture
def bucket(store, s3_endpoint) -> BucketBehind:
    return BucketBehind(store, s3_endpoint)


@pytest.fixture
def other_bucket(s3_endpoint):
    """`other_bucket(versioning)`: a bucket made as asked, removed after the test."""
    made = []

    def make(versioning: str | None) -> str:
        made.append(new_bucket(s3_endpoint, versioning=versioning))
        return made[-1]

    yield make
    for name in made:
        remove_bucket(s3_endpoint, name)


# --- the URL --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "parsed"),
    [
        ("s3://portfolio-evidence", ("portfolio-evidence", "")),
        ("s3://portfolio-evidence/", ("portfolio-evidence", "")),
        ("s3://portfolio.evidence/northgate/live/", ("portfolio.evidence", "northgate/live")),
        ("s3://abc/evidence_2026", ("abc", "evidence_2026")),
    ],
)
def test_a_url_names_a_bucket_and_a_prefix(url, parsed):
    assert parse_s3_url(url) == parsed


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/srv/evidence", "is not an s3:// URL"),
        ("https://portfolio-evidence/x", "is not an s3:// URL"),
        ("s3://", "is not a bucket name"),
        ("s3://ab", "is not a bucket name"),
        ("s3://Portfolio-Evidence", "is not a bucket name"),
        ("s3://portfolio..evidence", "is not a bucket name"),
        ("s3://-evidence", "is not a bucket name"),
        ("s3://key:secret@portfolio-evidence", "only a bucket and a prefix"),
        ("s3://portfolio-evidence:9000/x", "only a bucket and a prefix"),
        ("s3://portfolio-evidence/x?versioning=off", "only a bucket and a prefix"),
        ("s3://portfolio-evidence/a//b", "is not a prefix"),
        ("s3://portfolio-evidence/a/../b", "is not a prefix"),
        ("s3://portfolio-evidence/with space", "is not a prefix"),
    ],
)
def test_a_bad_url_says_what_is_wrong(url, message):
    with pytest.raises(ValueError, match=message.replace("?", r"\?")):
        parse_s3_url(url)


@pytest.mark.parametrize("endpoint", ["minio.internal:9000", "ftp://minio.internal", "http://"])
def test_an_endpoint_must_be_the_http_address_of_a_service(endpoint):
    with pytest.raises(ValueError, match="is not the address of a service"):
        S3Store.connect("portfolio-evidence", endpoint_url=endpoint)


# --- keys -------------------------------------------------------------------------------------


def test_files_and_exports_are_kept_under_the_prefix(store, bucket):
    kept = store.put(io.BytesIO(samples.pdf()), "plan.pdf", MB)
    store.put_export("abc123.zip", io.BytesIO(b"PK"))
    keys = [entry["Key"] for entry in bucket.client.list_objects_v2(Bucket=store.bucket)["Contents"]]
    assert keys == [f"evidence/{stored_name(kept.sha256)}", "evidence/exports/abc123.zip"]


def test_without_a_prefix_the_keys_start_at_the_top(connect, s3_bucket):
    store = connect(s3_bucket, prefix="")
    kept = store.put(io.BytesIO(samples.png()), "p.png", MB)
    store.put_export("abc123.pdf", io.BytesIO(b"%PDF"))
    assert BucketBehind(store, store.client.meta.endpoint_url).contents() == sorted(
        ["exports/abc123.pdf", stored_name(kept.sha256)]
    )
    assert list(store.iter_hashes()) == [kept.sha256] and list(store.export_names()) == ["abc123.pdf"]


def test_listings_read_every_page(store):
    store.list_page_size = 2  # S3 gives at most 1,000 keys a page: five files take three pages here
    kept = [store.put(io.BytesIO(f"note {n}\n".encode()), "note.txt", MB).sha256 for n in range(5)]
    for n in range(3):
        store.put_export(f"export-{n}.zip", io.BytesIO(b"PK"))
    assert list(store.iter_hashes()) == sorted(kept)
    assert list(store.export_names()) == ["export-0.zip", "export-1.zip", "export-2.zip"]


# --- uploads ----------------------------------------------------------------------------------


def test_reusing_a_file_writes_a_new_version_without_sending_the_bytes(store, bucket):
    first = store.put(io.BytesIO(samples.pdf()), "plan.pdf", MB)
    again = store.put(io.BytesIO(samples.pdf()), "copy.pdf", MB)
    versions = bucket.versions(first.sha256)
    assert again == first and len(versions) == 2 and versions[0]["IsLatest"]
    assert store.verify(first.sha256)


def test_a_large_file_is_sent_in_parts(store, bucket):
    data = samples.pdf() + b"%" * (9 * MB)  # past boto3's 8 MB threshold for a multipart upload
    kept = store.put(io.BytesIO(data), "large.pdf", 10 * MB)
    head = bucket.client.head_object(Bucket=store.bucket, Key=f"evidence/{stored_name(kept.sha256)}")
    assert head["ETag"].strip('"').endswith("-2")  # the ETag of a multipart object counts its parts
    assert store.size(kept.sha256) == len(data) and store.verify(kept.sha256)


def test_an_upload_the_service_refuses_leaves_no_local_file(connect, tmp_path):
    store = connect("no-such-bucket-here")
    with pytest.raises(S3UploadFailedError):
        store.put(io.BytesIO(samples.pdf()), "plan.pdf", MB)
    assert list(store.temp_dir.iterdir()) == []


# --- the sweep's race, by versions --------------------------------------------------------------


class ReuseBeforeDelete(S3Store):
    """The sweep found the file old; then, before it deletes that version, an upload reuses it."""

    def _delete_version(self, key: str, version_id: str) -> None:
        if not getattr(self, "reused", False):
            self.reused = True
            self.put(io.BytesIO(samples.pdf()), "same plan.pdf", MB)
        super()._delete_version(key, version_id)


class SweepBeforeRefresh(S3Store):
    """An upload found the file there; then, before it writes it again, the sweep deletes it."""

    cutoff: float

    def _refresh(self, key: str, version_id: str) -> bool:
        self.swept = self.delete_if_unchanged_since(key.rsplit("/", 1)[1], self.cutoff)
        return super()._refresh(key, version_id)


def test_a_reuse_between_the_sweeps_look_and_its_delete_survives(connect, s3_bucket):
    store = connect(s3_bucket, cls=ReuseBeforeDelete)
    bucket = BucketBehind(store, store.client.meta.endpoint_url)
    kept = store.put(io.BytesIO(samples.pdf()), "plan.pdf", MB)
    cutoff = bucket.age(kept.sha256)
    assert store.delete_if_unchanged_since(kept.sha256, cutoff) is False  # a newer version is left
    assert store.reused and store.verify(kept.sha256)
    assert [version["IsLatest"] for version in bucket.versions(kept.sha256)] == [True]  # the old one went


def test_a_sweep_between_an_uploads_look_and_its_refresh_makes_it_send_its_bytes(connect, s3_bucket):
    store = connect(s3_bucket, cls=SweepBeforeRefresh)
    bucket = BucketBehind(store, store.client.meta.endpoint_url)
    kept = store.put(io.BytesIO(samples.pdf()), "plan.pdf", MB)
    store.cutoff = bucket.age(kept.sha256)
    again = store.put(io.BytesIO(samples.pdf()), "same plan.pdf", MB)
    assert store.swept is True and again.sha256 == kept.sha256
    assert store.verify(kept.sha256) and len(bucket.versions(kept.sha256)) == 1
    assert list(store.temp_dir.iterdir()) == []


def test_the_sweep_removes_every_old_version_so_none_comes_back(store, bucket):
    kept = store.put(io.BytesIO(samples.pdf()), "plan.pdf", MB)
    store.put(io.BytesIO(samples.pdf()), "again.pdf", MB)  # a second version, as a reuse leaves
    cutoff = bucket.age(kept.sha256)
    assert store.delete_if_unchanged_since(kept.sha256, cutoff) is True
    assert bucket.versions(kept.sha256) == [] and not store.exists(kept.sha256)


def test_a_bucket_without_versions_is_never_swept(other_bucket, connect):
    store = connect(other_bucket(versioning=None))
    kept = store.put(io.BytesIO(samples.pdf()), "plan.pdf", MB)
    with pytest.raises(RuntimeError, match="keeps no versions"):
        store.delete_if_unchanged_since(kept.sha256, time.time() + 60)
    assert store.verify(kept.sha256)


# --- reading ------------------------------------------------------------------------------------


def test_an_object_streams_and_seeks_forwards_only(store):
    kept = store.put(io.BytesIO(samples.png()), "p.png", MB)
    stream = store.open(kept.sha256)
    assert stream.read(4) == samples.png()[:4]
    assert stream.seek(12) == 12 and stream.tell() == 12
    assert stream.read(4) == b"IHDR"
    assert stream.seek(4, io.SEEK_CUR) == 20
    with pytest.raises(io.UnsupportedOperation):
        stream.seek(0)
    assert stream.read() == samples.png()[20:]
    stream.close()
    assert stream.closed


def test_an_image_header_is_read_from_the_stream(store):
    from filestore import image_size

    for key, data in [("png", samples.png(3, 2)), ("jpeg", samples.jpeg()), ("gif", samples.gif())]:
        kept = store.put(io.BytesIO(data), f"picture.{key}", MB)
        with store.open(kept.sha256) as stream:
            assert image_size(stream, key) == image_size(io.BytesIO(data), key)


# --- readiness ----------------------------------------------------------------------------------


def test_a_versioned_bucket_is_ready(store):
    assert store.is_ready() and store.bucket_problem() is None


@pytest.mark.parametrize("versioning", [None, "Suspended"])
def test_a_bucket_without_versioning_is_not_ready_and_says_why(other_bucket, connect, versioning):
    store = connect(other_bucket(versioning))
    assert not store.is_ready()
    problem = store.bucket_problem()
    assert f"bucket {store.bucket} must have versioning enabled" in problem
    assert ("it is off" if versioning is None else "it is suspended") in problem


def test_a_missing_bucket_is_not_ready(connect):
    store = connect("no-such-bucket-here")
    assert not store.is_ready()
    assert store.bucket_problem() == "there is no bucket no-such-bucket-here"


def test_an_unreachable_service_is_not_ready_and_answers_quickly(tmp_path):
    # Port 9 (discard) has nothing listening here: the connection is refused at once.
    store = S3Store.connect("portfolio-evidence", endpoint_url="http://127.0.0.1:9", temp_dir=tmp_path)
    started = time.monotonic()
    assert not store.is_ready()
    assert time.monotonic() - started < 5
    with pytest.raises(ConnectionError, match="did not answer"):
        store.bucket_problem()


def test_an_unwritable_temporary_folder_is_not_ready(connect, s3_bucket, tmp_path):
    blocker = tmp_path / "uploads"
    blocker.write_text("a file where the folder should be")
    assert not connect(s3_bucket).is_ready()
