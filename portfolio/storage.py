"""The evidence store the application uses, built once per app from its settings."""

from __future__ import annotations

from flask import Flask, current_app

from evidence import EvidenceStore, FileSystemStore


def init_app(app: Flask) -> None:
    app.extensions["evidence_store"] = FileSystemStore(app.config["EVIDENCE_DIR"])


def evidence_store() -> EvidenceStore:
    return current_app.extensions["evidence_store"]


def max_upload_bytes() -> int:
    return int(float(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024)
