"""The evidence store the application uses, built once per app from its settings.

A folder (`PORTFOLIO_EVIDENCE_DIR`) by default; a bucket of S3-compatible object storage when
`PORTFOLIO_EVIDENCE_URL` is `s3://bucket/prefix` (`PORTFOLIO_S3_ENDPOINT_URL` for a service other
than AWS), which must keep versions: the app refuses to start on a bad URL or such a bucket.

Uploaded files are written by the form parser straight into the store's temporary area,
hashed as they arrive, so that storing them later is a rename (or, for a bucket, one send)
rather than a second copy; the parser reads the body in large blocks, since under gunicorn
small ones cost more than the hashing. Every temporary file a request makes is removed when
the request ends, however it ends (a truncated body, a client that went away, an error in the
view); only a signed-in user's request may carry files at all.
"""

from __future__ import annotations

import io
from typing import IO

from flask import Flask, Request, current_app
from flask_login import current_user
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.formparser import FormDataParser, MultiPartParser

from filestore import EvidenceStore, FileSystemStore, file_type, image_size

from ..config import BadSetting

# How much of a request's body is asked of the server at a time. gunicorn copies all it holds
# buffered on every read, so werkzeug's reads of 64 KiB cost a 200 MB upload gigabytes of
# copying, more time than its hashing; read a megabyte at a time, each byte is copied a few times.
BODY_READ_SIZE = 1 << 20


class SignInBeforeUploading(BadRequest):
    """A file part in a request of someone not signed in: refused before any byte is stored."""

    description = "Sign in before you upload files. Nothing has been saved."


class UploadFormParser(FormDataParser):
    """Werkzeug's form parser, reading a multipart body in large blocks (see BODY_READ_SIZE)."""

    def _parse_multipart(
        self, stream: IO[bytes], mimetype: str, content_length: int | None, options: dict[str, str]
    ) -> tuple[IO[bytes], MultiDict[str, str], MultiDict[str, FileStorage]]:
        # Werkzeug's own method, which passes the decoder no block size, with one passed on.
        parser = MultiPartParser(
            stream_factory=self.stream_factory,
            max_form_memory_size=self.max_form_memory_size,
            max_form_parts=self.max_form_parts,
            cls=self.cls,
            buffer_size=form_block_size(self.max_form_memory_size),
        )
        boundary = options.get("boundary", "").encode("ascii")
        if not boundary:
            raise ValueError("Missing boundary")
        if not isinstance(stream, io.RawIOBase):  # the body already in memory, read by get_data()
            form, files = parser.parse(stream, boundary, content_length)
            return stream, form, files
        # Werkzeug's stream (its limits and its 400 for a client gone) read through a buffer.
        buffered = io.BufferedReader(stream, BODY_READ_SIZE)
        try:
            form, files = parser.parse(buffered, boundary, content_length)
        finally:
            buffered.detach()  # closing the buffer would close the request's stream
        return stream, form, files


def form_block_size(max_form_memory_size: int | None) -> int:
    """How much of the body the multipart decoder is given at a time.

    The decoder answers 413 when a block, with what it holds back, passes the limit meant for one
    text field (MAX_FORM_MEMORY_SIZE, 500 KB by Flask's default), so a block is half that limit,
    and no more than is read from the server at once.
    """
    return BODY_READ_SIZE if max_form_memory_size is None else min(BODY_READ_SIZE, max_form_memory_size // 2)


class UploadRequest(Request):
    form_data_parser_class = UploadFormParser

    def _get_file_stream(
        self, total_content_length: int | None, content_type: str | None, filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:  # fmt: skip
        if not current_user.is_authenticated:
            raise SignInBeforeUploading()
        store: EvidenceStore | None = current_app.extensions.get("evidence_store")
        if filename and store is not None:
            incoming = store.incoming()
            # The parser forgets a part cut short, so the request keeps every one to close it.
            self.__dict__.setdefault("_incoming_files", []).append(incoming)
            return incoming  # type: ignore[return-value]
        return super()._get_file_stream(total_content_length, content_type, filename, content_length)

    def close(self) -> None:
        """Close the request's files and remove every temporary file the store did not take."""
        try:
            super().close()
        finally:
            for incoming in self.__dict__.pop("_incoming_files", ()):
                incoming.close()


def init_app(app: Flask) -> None:
    app.extensions["evidence_store"] = build_store(app)
    app.request_class = UploadRequest
    app.register_error_handler(SignInBeforeUploading, _sign_in_before_uploading)


def build_store(app: Flask) -> EvidenceStore:
    """The store the settings name; BadSetting, saying why, if it cannot work.

    A bucket that does not answer yet is no reason to refuse to start: `/readyz` says not ready
    until it answers, as for the database.
    """
    url = app.config["EVIDENCE_URL"]
    if not url:
        return FileSystemStore(app.config["EVIDENCE_DIR"])
    from filestore.s3 import S3Store, parse_s3_url  # boto3 is imported only by apps that use it

    try:
        bucket, prefix = parse_s3_url(url)
    except ValueError as error:
        raise BadSetting(f"PORTFOLIO_EVIDENCE_URL: {error}") from None
    try:
        store = S3Store.connect(bucket, prefix, endpoint_url=app.config["S3_ENDPOINT_URL"] or None)
    except ValueError as error:
        raise BadSetting(f"PORTFOLIO_S3_ENDPOINT_URL: {error}") from None
    try:
        problem = store.bucket_problem()
    except ConnectionError as error:
        app.logger.warning("evidence store not ready: %s", error)
        return store
    if problem:
        raise BadSetting(f"PORTFOLIO_EVIDENCE_URL: {problem}. See the README, Object storage.")
    return store


def _sign_in_before_uploading(error: SignInBeforeUploading):
    from .error_pages import render_error

    return render_error(400, "Sign in before you upload files", error.description)


def evidence_store() -> EvidenceStore:
    return current_app.extensions["evidence_store"]


def max_upload_bytes() -> int:
    return int(float(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024)


def max_image_pixels() -> int:
    return int(float(current_app.config["MAX_IMAGE_MEGAPIXELS"]) * 1_000_000)


def plays_inline(media_type: str) -> bool:
    """Whether a stored file is audio or video, which the page plays with the browser's own player."""
    try:
        return file_type(media_type).group in ("audio", "video")
    except KeyError:
        return False


def shows_inline(sha256: str, media_type: str, pixels: int | None = None) -> bool:
    """Whether a stored file is an image small enough to show in a page, by the `pixels` recorded
    at upload; for a file stored before they were, only its header is read from the store.

    An image stored before the pixel limit (or under a higher one) is offered as a download only,
    so no browser is asked to decode it.
    """
    try:
        kind = file_type(media_type)
        if not kind.previewable:
            return False
        if pixels is not None:
            return pixels <= max_image_pixels()
        with evidence_store().open(sha256) as stream:
            size = image_size(stream, kind.key)
    except KeyError:  # not a type we know, or the file is missing
        return False
    return size is not None and size[0] * size[1] <= max_image_pixels()
