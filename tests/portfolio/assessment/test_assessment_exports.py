"""The assessment result in the exports: every attempt, each method's grade, who recorded it and
when, in the manifest (valid against its schema) and in the PDF."""

from __future__ import annotations

import io

import jsonschema
import pypdf

from portfolio.assessment.domain import record_result
from portfolio.core.storage import evidence_store
from portfolio.exports import export_pdf
from portfolio.exports.gather import gather
from portfolio.exports.manifest import Document, manifest, schema
from portfolio.extensions import db
from portfolio.models import AttemptKind

from ..gateway_world import TODAY
from .assessment_world import ASSESSED_ON, assessed, graded

__all__ = ["assessed"]

DOCUMENTS = {name: Document(f"{name}.bin", "0" * 64, 1) for name in ("pdf", "mapping_csv")}


def _record_fail_then_resit(assessed) -> None:
    enrolment, assessor = assessed.enrolment, assessed.assessor
    record_result(db.session, enrolment, by=assessor, attempt=1, kind=AttemptKind.FIRST, methods=graded("Distinction", "Fail"),
                  grade="Fail", note="The discussion did not cover evaluation.", today=TODAY)  # fmt: skip
    record_result(db.session, enrolment, by=assessor, attempt=2, kind=AttemptKind.RESIT, methods=graded(None, "Pass"),
                  grade="Pass", today=TODAY)  # fmt: skip
    db.session.commit()


def test_the_manifest_holds_every_attempt_and_follows_its_schema(assessed):
    _record_fail_then_resit(assessed)
    data = manifest(gather(db.session, assessed.enrolment), DOCUMENTS)
    jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker()).validate(data)
    result = data["assessment"]
    assert result["plan"] == "ST0396/AP01" and result["plan_confirmed"] is False
    first, resit = result["attempts"]
    assert (first["number"], first["kind"], first["grade"], first["passed"]) == (1, "first", "Fail", False)
    assert first["note"] == "The discussion did not cover evaluation."
    assert first["recorded_by"] == assessed.assessor.name and first["epao"] == assessed.enrolment.epao.name
    assert first["recorded_at"].endswith("Z")
    assert [(m["code"], m["grade"], m["passed"], m["carried_over"]) for m in first["methods"]] == [
        ("method_1", "Distinction", True, False),
        ("method_2", "Fail", False, False),
    ]
    assert (resit["kind"], resit["grade"], resit["passed"]) == ("resit", "Pass", True)
    kept = resit["methods"][0]
    assert (kept["grade"], kept["carried_over"], kept["assessed_on"]) == ("Distinction", True, ASSESSED_ON.isoformat())
    assert data["enrolment"]["status"] == "completed"


def test_a_manifest_before_any_result_has_no_attempts(assessed):
    data = manifest(gather(db.session, assessed.enrolment), DOCUMENTS)
    jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker()).validate(data)
    assert data["assessment"]["attempts"] == []


def test_the_pdf_shows_the_result(assessed):
    _record_fail_then_resit(assessed)
    _, pdf = export_pdf(db.session, evidence_store(), assessed.enrolment, actor=assessed.tutor)
    text = " ".join(" ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages).split())
    assert "Apprenticeship assessment result" in text
    assert "Attempt 1: Fail" in text and "Attempt 2 (resit): Pass" in text
    assert "(carried over from attempt 1)" in text
    assert f"{assessed.assessor.name} of {assessed.enrolment.epao.name}" in text
    assert "marked as not confirmed" in text
