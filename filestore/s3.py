"""Evidence files in an S3-compatible object store (AWS S3, MinIO, Ceph RGW), through boto3.

The store keeps what `FileSystemStore` keeps, under the same names: a file at the key
`prefix/ab/cd/abcd...` (its SHA-256), finished exports at `prefix/exports/<name>`. An upload
still streams to a local `IncomingFile` and is checked there by the same code
(`accept_upload`); only a complete, accepted file is sent, so a refused or broken upload
never reaches the bucket, and an object appears whole or not at all.

The bucket must keep versions. That is how a file reused by an upload at the very moment the
sweep deletes it survives: the upload writes the object again, which makes a new version, and
the sweep deletes only the version it found old (and older ones), never the key.
"""

from __future__ import annotations

import hashlib
import io
import re
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, cast
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from .images import DEFAULT_MAX_PIXELS
from .store import (
    CHUNK_SIZE,
    IncomingFile,
    StoredFile,
    accept_upload,
    check_export_name,
    clean_temp_folder,
    has_hash,
    is_export_name,
    is_sha256,
    writable_folder,
    write_through,
)

S3Client = Any  # boto3's client("s3"): botocore ships no types
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_PREFIX_PART = re.compile(r"[A-Za-z0-9._-]+")
_NOT_FOUND = {"404", "NoSuchKey", "NoSuchVersion", "NotFound"}
_COPY_LIMIT = 5 << 30  # the largest object S3 copies in one request


def parse_s3_url(url: str) -> tuple[str, str]:
    """(bucket, prefix) of `s3://bucket/prefix` (the prefix may be empty); ValueError saying what is wrong."""
    parts = urlsplit(url)
    if parts.scheme != "s3":
        raise ValueError(f"{url!r} is not an s3:// URL; write s3://bucket or s3://bucket/prefix")
    if parts.query or parts.fragment or any(c in parts.netloc for c in "@:"):
        raise ValueError(f"{url!r} may hold only a bucket and a prefix: s3://bucket/prefix")
    if not _BUCKET.fullmatch(parts.netloc) or ".." in parts.netloc:
        raise ValueError(f"{parts.netloc!r} is not a bucket name: 3 to 63 lower-case letters, digits, dots and hyphens")
    prefix = parts.path.strip("/")
    if prefix and not all(_PREFIX_PART.fullmatch(part) and part not in (".", "..") for part in prefix.split("/")):
        raise ValueError(f"{prefix!r} is not a prefix: letters, digits, '.', '_' and '-', in parts separated by '/'")
    return parts.netloc, prefix


class S3Store:
    """An EvidenceStore in a bucket with versioning enabled, under `prefix`.

    `client` does the work; `probe_client` (by default `client`) answers `is_ready`, so give it
    short timeouts. Uploads arrive in `temp_dir`, a local folder (by default one in the
    system's temporary folder).
    """

    list_page_size = 1000  # keys a listing asks for at once (S3's most)

    def __init__(
        self,
        bucket: str,
        prefix: str,
        client: S3Client,
        *,
        temp_dir: Path | str | None = None,
        probe_client: S3Client | None = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client
        self.probe_client = probe_client or client
        self.temp_dir = Path(temp_dir) if temp_dir else Path(tempfile.gettempdir()) / "evidence-uploads"
        self._base = f"{self.prefix}/" if self.prefix else ""

    @classmethod
    def connect(
        cls, bucket: str, prefix: str = "", *, endpoint_url: str | None = None, temp_dir: Path | str | None = None
    ) -> S3Store:
        """A store whose clients take credentials and region from the usual AWS settings (environment
        variables, profile); `endpoint_url` names a service other than AWS (MinIO, Ceph RGW), and
        ValueError says so if it is not the http(s) address of one."""
        session = boto3.session.Session()
        # Other services are addressed by path (host/bucket/key): a bucket's own host name needs DNS they rarely have.
        addressing = {"addressing_style": "path"} if endpoint_url else None

        def client(**config: Any) -> S3Client:
            return session.client("s3", endpoint_url=endpoint_url, config=Config(s3=addressing, **config))

        try:
            if endpoint_url is not None and urlsplit(endpoint_url).scheme not in ("http", "https"):
                raise ValueError(endpoint_url)
            worker = client(connect_timeout=10, read_timeout=60, retries={"mode": "standard", "max_attempts": 5})
            # A probe must answer within a balancer's few seconds, and not retry: the next probe will.
            probe = client(connect_timeout=2, read_timeout=3, retries={"mode": "standard", "total_max_attempts": 1})
        except ValueError:  # botocore refuses an address it cannot read, too
            raise ValueError(f"{endpoint_url!r} is not the address of a service: write http://host:port") from None
        return cls(bucket, prefix, worker, temp_dir=temp_dir, probe_client=probe)

    # --- storing ------------------------------------------------------------------------

    def put(
        self, stream: BinaryIO, declared_name: str, max_bytes: int, max_pixels: int = DEFAULT_MAX_PIXELS
    ) -> StoredFile:
        """Keep the file `stream` yields, named `declared_name` by its sender, if it is acceptable
        (see `accept_upload`); an `IncomingFile` of this store is taken without copying it again."""
        return accept_upload(stream, declared_name, max_bytes, max_pixels, self.temp_dir, self._keep)

    def incoming(self) -> IncomingFile:
        """A local temporary file that hashes what is written to it, for `put` to take."""
        return IncomingFile(self.temp_dir)

    def _keep(self, incoming: IncomingFile, sha256: str) -> None:
        """Send a checked upload to its key, or refresh the object already there with its bytes.

        Refreshing writes the object again (a copy onto itself, in the service), which makes a new
        version the sweep will not delete; if the sweep took the version away meanwhile, the
        upload's own bytes are sent instead.
        """
        key = self._key(sha256)
        current = self._head(key)
        if not (
            current is not None
            and current["ContentLength"] == incoming.size  # a damaged object is replaced
            and incoming.size <= _COPY_LIMIT
            and current.get("VersionId")  # without versions, sending the bytes again is as good
            and self._refresh(key, current["VersionId"])
        ):
            self._upload(incoming, key)

    def _refresh(self, key: str, version_id: str) -> bool:
        """Write the version `version_id` of `key` again as its newest; False if that version is gone."""
        try:
            self.client.copy_object(
                Bucket=self.bucket,
                Key=key,
                CopySource={"Bucket": self.bucket, "Key": key, "VersionId": version_id},
                MetadataDirective="REPLACE",  # S3 refuses a copy onto itself that changes nothing
            )
        except ClientError as error:
            if _not_found(error):
                return False
            raise
        return True

    def _upload(self, incoming: IncomingFile, key: str) -> None:
        """Send a complete local file (in parts, if large); the object appears only once all have arrived."""
        incoming.flush()
        self.client.upload_file(str(incoming.path), self.bucket, key)

    def restore_file(self, sha256: str, source: BinaryIO) -> int:
        """Put back a file from a backup under its hash, without the checks an upload gets; ValueError,
        and nothing sent, if the bytes do not have that hash. Returns the size."""
        key = self._key(sha256)
        return write_through(self.temp_dir, source, self._sender(key), has_hash(sha256))

    def put_export(self, name: str, source: BinaryIO) -> int:
        """Keep `source` (read to its end) as the export `name`, replacing any; returns its size.
        Readers see the old object or the new one, never a part."""
        return write_through(self.temp_dir, source, self._sender(self._export_key(name)))

    def _sender(self, key: str) -> Callable[[IncomingFile], None]:
        """What sends a complete temporary file to `key` (for `write_through`)."""
        return lambda incoming: self._upload(incoming, key)

    # --- reading ------------------------------------------------------------------------

    def open(self, sha256: str) -> BinaryIO:
        """The stored file, streamed as it is read; KeyError if there is none."""
        return self._get(self._key(sha256), sha256)

    def exists(self, sha256: str) -> bool:
        return self._head(self._key(sha256)) is not None

    def size(self, sha256: str) -> int:
        current = self._head(self._key(sha256))
        if current is None:
            raise KeyError(sha256)
        return int(current["ContentLength"])

    def verify(self, sha256: str) -> bool:
        """Rehash the stored file as it streams: True if it is there and its bytes still have this hash."""
        try:
            with self.open(sha256) as stream:
                digest = hashlib.sha256()
                while chunk := stream.read(CHUNK_SIZE):
                    digest.update(chunk)
        except KeyError:
            return False
        return digest.hexdigest() == sha256

    def iter_hashes(self) -> Iterator[str]:
        """Every stored file's hash, in order; exports and stray objects are not included."""
        for key in self._keys(self._base):
            rest = key[len(self._base) :]
            name = rest[6:]
            if is_sha256(name) and rest == f"{name[:2]}/{name[2:4]}/{name}":
                yield name

    def open_export(self, name: str) -> BinaryIO:
        return self._get(self._export_key(name), name)

    def export_names(self) -> Iterator[str]:
        folder = f"{self._base}exports/"
        for key in self._keys(folder):
            if is_export_name(key[len(folder) :]):
                yield key[len(folder) :]

    # --- deleting -----------------------------------------------------------------------

    def delete_if_unchanged_since(self, sha256: str, cutoff: float) -> bool:
        """Remove a file not stored or reused (see `put`) since `cutoff` (a POSIX time); True if removed.

        The caller has decided that nothing refers to the file. Only the version found old is
        deleted, then the versions older than the cutoff; an upload reusing the file at this very
        moment wrote a newer version, which stays (and then this answers False).
        """
        key = self._key(sha256)
        current = self._head(key)
        if current is None or not _written_before(current["LastModified"], cutoff):
            return False
        if not current.get("VersionId"):  # deleting the key could delete an upload's reuse of it
            raise RuntimeError(f"bucket {self.bucket} keeps no versions: enable versioning before sweeping")
        self._delete_version(key, current["VersionId"])
        return not self._delete_versions_before(key, cutoff)

    def _delete_version(self, key: str, version_id: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key, VersionId=version_id)

    def _delete_versions_before(self, key: str, cutoff: float) -> bool:
        """Delete the versions (and delete markers) of `key` written before `cutoff`, so that no older
        copy becomes the current one; True if a newer version is left."""
        newer = False
        for page in self.client.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=key):
            for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                if entry["Key"] != key:
                    continue
                if _written_before(entry["LastModified"], cutoff):
                    self._delete_version(key, entry["VersionId"])
                elif "Size" in entry:  # a version, not a delete marker
                    newer = True
        return newer

    def delete_export(self, name: str) -> bool:
        """Remove the export `name`; False if there was none. The bucket keeps the bytes as an old
        version (a download already reading them finishes) until its lifecycle rule expires them."""
        key = self._export_key(name)
        if self._head(key) is None:
            return False
        self.client.delete_object(Bucket=self.bucket, Key=key)
        return True

    def clean_temp(self, older_than: float = 24 * 3600, now: float | None = None) -> int:
        """Remove local temporary files not written to for `older_than` seconds, as a process killed
        mid-upload leaves them; returns how many."""
        return clean_temp_folder(self.temp_dir, older_than, now)

    # --- the bucket -----------------------------------------------------------------------

    def is_ready(self) -> bool:
        """Whether files can be stored now: the local temporary folder can be written, and the bucket
        answers, quickly, with versioning enabled."""
        try:
            return writable_folder(self.temp_dir) and self.bucket_problem() is None
        except OSError:
            return False

    def bucket_problem(self) -> str | None:
        """What stops the bucket from keeping evidence, in words for whoever set it up; None if nothing.
        ConnectionError if the service does not answer (quickly: this is the probe's question)."""
        try:
            self.probe_client.head_bucket(Bucket=self.bucket)
            status = self.probe_client.get_bucket_versioning(Bucket=self.bucket).get("Status")
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in ("404", "NoSuchBucket"):
                return f"there is no bucket {self.bucket}"
            if code in ("403", "AccessDenied"):
                return f"access to bucket {self.bucket} is denied to these credentials"
            return f"bucket {self.bucket} answered {code or 'an error'}: {error}"
        except NoCredentialsError:
            return "no AWS credentials were found (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)"
        except BotoCoreError as error:
            raise ConnectionError(f"the object store did not answer: {error}") from error
        if status != "Enabled":
            return (
                f"bucket {self.bucket} must have versioning enabled (it is {str(status or 'off').lower()}), so "
                "that a file an upload reuses while the sweep deletes it survives"
            )
        return None

    # --- keys -----------------------------------------------------------------------------

    def _key(self, sha256: str) -> str:
        if not is_sha256(sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r:.80}")
        return f"{self._base}{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def _export_key(self, name: str) -> str:
        return f"{self._base}exports/{check_export_name(name)}"

    def _keys(self, prefix: str) -> Iterator[str]:
        """Every current object's key under `prefix`, in order, a page of `list_page_size` at a time."""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix, PaginationConfig={"PageSize": self.list_page_size}
        )
        for page in pages:
            for entry in page.get("Contents", []):
                yield entry["Key"]

    def _head(self, key: str) -> dict[str, Any] | None:
        """The current version's metadata (size, time, version id); None if there is none."""
        try:
            return cast(dict[str, Any], self.client.head_object(Bucket=self.bucket, Key=key))
        except ClientError as error:
            if _not_found(error):
                return None
            raise

    def _get(self, key: str, name: str) -> BinaryIO:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if _not_found(error):
                raise KeyError(name) from None
            raise
        return cast(BinaryIO, ObjectStream(response["Body"]))


class ObjectStream(io.RawIOBase):
    """An object's bytes as the service sends them: `read(n)` reads on from the response, and
    seeking goes forward only, by reading past (what reading an image's header needs)."""

    def __init__(self, body: Any) -> None:
        super().__init__()
        self._body = body
        self._position = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            data = self._body.read()
        else:
            data = b""
            while len(data) < size and (chunk := self._body.read(size - len(data))):  # a response may give less
                data += chunk
        self._position += len(data)
        return data

    def readall(self) -> bytes:
        return self.read()

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = {io.SEEK_SET: offset, io.SEEK_CUR: self._position + offset}.get(whence, -1)
        if target < self._position:
            raise io.UnsupportedOperation("an object is read forwards only")
        while self._position < target and self.read(min(CHUNK_SIZE, target - self._position)):
            pass
        return self._position

    def tell(self) -> int:
        return self._position

    def close(self) -> None:
        """Close the response too, so that its connection is not left waiting."""
        if not self.closed:
            self._body.close()
        super().close()


def _not_found(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in _NOT_FOUND


def _written_before(last_modified: datetime, cutoff: float) -> bool:
    """Whether an object's version was written before `cutoff`. Services give the time to the second,
    cut down: a version shown at second T may have been written up to a second later."""
    return last_modified.timestamp() + 1 <= cutoff
