"""Exports on the web: ask for one, watch it being prepared, download it once it is ready."""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ..core import audit
from ..core.access import get_enrolment_or_404, may_export
from ..core.error_pages import render_error
from ..core.forms import ConfirmForm
from ..core.storage import evidence_store
from ..core.web import attempt
from ..extensions import db
from ..models import Export, ExportFormat, ExportStatus
from .requests import ask_for_export

bp = Blueprint("exports", __name__, template_folder="templates", url_prefix="/enrolments/<int:enrolment_id>/exports")

CHUNK_SIZE = 1 << 20


@bp.route("/<any(pdf, zip):export_format>", methods=["POST"])
@login_required
def ask(enrolment_id: int, export_format: str):
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id, may=may_export)
    if not ConfirmForm().validate_on_submit():
        return render_error(400, "The export was not asked for", "Please go back, refresh the page and try again.")
    export = attempt(
        lambda: ask_for_export(db.session, enrolment, ExportFormat(export_format), actor=current_user), quiet=True
    )
    if not export:
        return render_error(409, "The portfolio cannot be exported", export.error.message)
    if export.status is ExportStatus.READY:
        return redirect(url_for(".download", enrolment_id=enrolment.id, export_id=export.id), code=303)
    return redirect(url_for(".show", enrolment_id=enrolment.id, export_id=export.id), code=303)


@bp.route("/<int:export_id>")
@login_required
def show(enrolment_id: int, export_id: int):
    export = _export_or_404(enrolment_id, export_id)
    return render_template("exports/export.html", export=export, enrolment=export.enrolment, form=ConfirmForm())


@bp.route("/<int:export_id>/download")
@login_required
def download(enrolment_id: int, export_id: int):
    if request.method == "HEAD":  # Flask would run this view, and record a download nobody made
        page, status = render_error(405)
        return page, status, {"Allow": "GET"}
    export = _export_or_404(enrolment_id, export_id)
    if export.status is not ExportStatus.READY:
        return redirect(url_for(".show", enrolment_id=enrolment_id, export_id=export_id))
    try:
        stream = evidence_store().open_export(export.store_name)
    except KeyError:
        return render_error(410, "This export is no longer kept", "Please ask for the export again.")
    audit.record_change(
        f"export.{export.format.value}",
        export.enrolment,
        actor=current_user,
        after={"export": export.id, "fingerprint": export.fingerprint},
    )
    db.session.commit()
    response = Response(_chunks(stream), mimetype=export.format.media_type)
    response.headers.set("Content-Disposition", "attachment", filename=export.file_name)
    response.headers["Cache-Control"] = "private, no-store"
    if export.size is not None:
        response.content_length = export.size
    return response


def _chunks(stream):
    with stream:
        while chunk := stream.read(CHUNK_SIZE):
            yield chunk


def _export_or_404(enrolment_id: int, export_id: int) -> Export:
    enrolment = get_enrolment_or_404(db.session, current_user, enrolment_id, may=may_export)
    export = db.session.scalar(select(Export).where(Export.id == export_id, Export.enrolment_id == enrolment.id))
    if export is None:
        abort(404)
    return export
