"""The evidence store the application uses, built once per app from its settings.

Uploaded files are written by the form parser straight into the store's temporary area,
hashed as they arrive, so that storing them later is a rename rather than a second copy.
"""

from __future__ import annotations

from typing import IO

from flask import Flask, Request, current_app

from evidence import EvidenceStore, FileSystemStore, file_type, image_size


class UploadRequest(Request):
    def _get_file_stream(
        self, total_content_length: int | None, content_type: str | None, filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:  # fmt: skip
        store = current_app.extensions.get("evidence_store")
        if filename and isinstance(store, FileSystemStore):
            return store.incoming()  # type: ignore[return-value]
        return super()._get_file_stream(total_content_length, content_type, filename, content_length)


def init_app(app: Flask) -> None:
    app.extensions["evidence_store"] = FileSystemStore(app.config["EVIDENCE_DIR"])
    app.request_class = UploadRequest


def evidence_store() -> EvidenceStore:
    return current_app.extensions["evidence_store"]


def max_upload_bytes() -> int:
    return int(float(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024)


def max_image_pixels() -> int:
    return int(float(current_app.config["MAX_IMAGE_MEGAPIXELS"]) * 1_000_000)


def shows_inline(sha256: str, media_type: str) -> bool:
    """Whether a stored file is an image small enough to show in a page: only its header is read.

    An image stored before the pixel limit (or under a higher one) is offered as a download only,
    so no browser is asked to decode it.
    """
    try:
        kind = file_type(media_type)
        if not kind.previewable:
            return False
        with evidence_store().open(sha256) as stream:
            size = image_size(stream, kind.key)
    except KeyError:  # not a type we know, or the file is missing
        return False
    return size is not None and size[0] * size[1] <= max_image_pixels()
