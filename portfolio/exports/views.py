"""Downloading a portfolio: the PDF, and the ZIP streamed as it is made."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from flask import Blueprint, Response, current_app, request
from flask_login import current_user, login_required

from ..core.access import get_enrolment_or_404, may_export
from ..core.error_pages import render_error
from ..core.storage import evidence_store
from ..core.web import attempt
from ..extensions import db
from . import EvidenceFileProblem, export_pdf, export_zip

bp = Blueprint("exports", __name__, template_folder="templates", url_prefix="/enrolments/<int:enrolment_id>")


@bp.before_request
def refuse_head():
    """Flask answers HEAD with the GET view, which would make the export (and record it) only to
    throw the body away: a link checker or prefetcher could run PDF after PDF."""
    if request.method == "HEAD":
        page, status = render_error(405)
        return page, status, {"Allow": "GET"}


@bp.route("/export/portfolio.pdf")
@login_required
def pdf(enrolment_id: int):
    return _download(enrolment_id, export_pdf, "application/pdf")


@bp.route("/export/portfolio.zip")
@login_required
def zip_archive(enrolment_id: int):
    return _download(
        enrolment_id,
        export_zip,
        "application/zip",
        body=lambda chunks, enrolment: _logged(chunks, current_app.logger, enrolment.id),
    )


def _download(enrolment_id: int, export, mimetype: str, *, body=lambda data, enrolment: data) -> Response:
    """Run `export` for the enrolment and send what it makes (through `body`) as an attachment,
    or the page that says why it was refused."""
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id, may=may_export)
    exported = attempt(lambda: export(db.session, evidence_store(), enrolment, actor=current_user), quiet=True)
    if not exported:
        return render_error(409, "The portfolio cannot be exported", exported.error.message)
    filename, data = exported
    return _attachment(Response(body(data, enrolment), mimetype=mimetype), filename)


def _attachment(response: Response, filename: str) -> Response:
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _logged(chunks: Iterator[bytes], logger: logging.Logger, enrolment_id: int) -> Iterator[bytes]:
    """The chunks, with a log line if the stream stops on a file (the person downloading sees
    only a broken download by then)."""
    try:
        yield from chunks
    except EvidenceFileProblem as problem:
        logger.error("ZIP export of enrolment %s stopped: %s", enrolment_id, problem.message)
        raise
