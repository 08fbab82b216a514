"""The employer's verification of behaviours in the exports: the newest verification, its
fingerprint, signer, time and each behaviour's decision and note, in the manifest (valid against
its schema) and in the PDF's gateway record."""

from __future__ import annotations

import io

import jsonschema
import pypdf
import pytest

from portfolio.core.storage import evidence_store
from portfolio.exports import export_pdf
from portfolio.exports.gather import gather
from portfolio.exports.manifest import Document, manifest, schema
from portfolio.extensions import db

from ..gateway_world import confirm_behaviours, ready_enrolment, verifying_version

pytestmark = pytest.mark.one_transaction


def _validated(portfolio) -> dict:
    documents = {name: Document(f"{name}.file", "0" * 64, 1) for name in ("pdf", "mapping_csv")}
    found = manifest(portfolio, documents)
    jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker()).validate(found)
    return found["behaviour_verification"]


def _pdf_text(gateway) -> str:
    _, data = export_pdf(db.session, evidence_store(), gateway.enrolment, actor=gateway.tutor)
    return " ".join(" ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages).split())


def test_the_newest_verification_is_in_the_manifest(world):
    gateway = ready_enrolment(world, standard_version=verifying_version(), behaviours_verified=False)
    assert _validated(gather(db.session, gateway.enrolment)) == {"required": True, "newest": None}
    confirm_behaviours(gateway.enrolment, gateway.mentor, B2="not yet: first try")
    newest = confirm_behaviours(gateway.enrolment, gateway.mentor, B10="not yet: copies others' ideas")
    found = _validated(gather(db.session, gateway.enrolment))
    assert found["required"] is True
    signed = found["newest"]
    assert signed["signed_by"] == gateway.mentor.name and signed["signed_at"].endswith("Z")
    assert signed["fingerprint"] == newest.fingerprint and signed["fingerprint_matches"] is True
    assert signed["all_confirmed"] is False and signed["earlier_verifications"] == 1
    behaviours = {b["code"]: b for b in signed["behaviours"]}
    assert list(behaviours) == [f"B{n}" for n in range(1, 12)]
    assert behaviours["B10"]["decision"] == "not_yet" and behaviours["B10"]["note"] == "not yet: copies others' ideas"
    assert behaviours["B2"] == {
        "code": "B2",
        "statement": gateway.enrolment.standard_version.standard["B2"].text,
        "decision": "confirmed",
        "note": "",
    }


def test_where_the_standard_does_not_ask_the_manifest_says_so(world):
    gateway = ready_enrolment(world)
    assert _validated(gather(db.session, gateway.enrolment)) == {"required": False, "newest": None}
    assert "verification of behaviours" not in _pdf_text(gateway)


def test_the_pdf_shows_the_verification_in_the_gateway_record(world):
    gateway = ready_enrolment(world, standard_version=verifying_version(), behaviours_verified=False)
    assert "The employer has not verified the behaviours." in _pdf_text(gateway)
    verification = confirm_behaviours(gateway.enrolment, gateway.mentor, B7="not yet: wobbles under pressure")
    text = _pdf_text(gateway)
    assert "Employer's verification of behaviours" in text
    assert f"Signed by {gateway.mentor.name} ({gateway.enrolment.employer.name})" in text
    assert "Not yet confirmed: B7" in text and "not yet: wobbles under pressure" in text
    assert verification.fingerprint in text.replace(" ", "") and "Matches the decisions below." in text
