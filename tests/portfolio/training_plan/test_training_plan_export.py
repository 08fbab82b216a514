"""The training plan in the export: every version in the manifest, which follows its schema, and
the current one in the portfolio PDF."""

from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal

import jsonschema
import pypdf
import sqlalchemy as sa

from portfolio.core.fingerprint import fingerprint
from portfolio.exports.gather import gather
from portfolio.exports.manifest import Document, manifest, schema
from portfolio.exports.pdf import render_document
from portfolio.extensions import db
from portfolio.training_plan import agreements
from portfolio.training_plan.plan import TRAINING_PLAN, ActivityDetails, add_activity, sign_plan

from .conftest import planned


def test_every_version_of_the_plan_is_in_the_manifest_and_follows_the_schema(plan_people):
    people = plan_people
    enrolment = people["enrolment"]
    first = planned(people)
    seen = agreements.content_fingerprint(TRAINING_PLAN, first)
    sign_plan(db.session, first, by=people["apprentice"], seen=seen)
    details = ActivityDetails("Exhibition project", date(2026, 6, 1), date(2026, 9, 28), Decimal("157"), ["S1", "B1"])
    second = add_activity(db.session, enrolment, by=people["tutor"], details=details).plan
    for role in ("apprentice", "employer", "tutor"):
        sign_plan(db.session, second, by=people[role], seen=agreements.content_fingerprint(TRAINING_PLAN, second))
    db.session.commit()
    documents = {name: Document(path, "0" * 64, 1) for name, path in (("pdf", "p.pdf"), ("mapping_csv", "m.csv"))}
    written = manifest(gather(db.session, enrolment), documents)
    jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker()).validate(written)
    assert written["schema_version"] == "1.3"
    plans = written["training_plans"]
    assert [p["version"] for p in plans] == [1, 2]
    assert plans[0]["agreed_at"] is None and [s["signer"] for s in plans[0]["signatures"]] == ["apprentice"]
    assert plans[0]["signatures"][0]["fingerprint"] == seen
    assert plans[1]["agreed_at"] is not None and len(plans[1]["signatures"]) == 3
    assert plans[1]["activities"][0] == {
        "description": "Object handling and documentation workshops", "starts_on": "2025-10-01",
        "ends_on": "2025-11-30", "hours": "61.00", "criteria": ["K1", "S1"],
    }  # fmt: skip
    assert [a["hours"] for a in plans[1]["activities"]] == ["61.00", "182.00", "157.00"]
    assert plans[1]["english_maths_plan"] == "Functional skills English at level 2 by March 2026"
    # Each signature carries exactly what it was given, and the check of its fingerprint.
    for signature in plans[0]["signatures"] + plans[1]["signatures"]:
        assert signature["fingerprint_matches"] is True
        assert fingerprint(signature["content"]) == signature["fingerprint"]
    signed = plans[1]["signatures"][0]["content"]
    assert signed["version"] == 2 and signed["assessment_organisation"] == "Harbour Assessment Services"
    assert signed["planned_end"] == "2026-09-28" and signed["planned_otj_hours"] == 400

    # A stored content changed behind the application's back is reported, and still follows the schema.
    tampered = dict(signed, assessment_organisation="Someone Else Assessments")
    db.session.execute(
        sa.text("UPDATE agreement_signatures SET content = :content WHERE id = :id"),
        {"content": json.dumps(tampered), "id": second.signatures[0].id},
    )
    db.session.commit()
    db.session.expire_all()
    written = manifest(gather(db.session, enrolment), documents)
    jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker()).validate(written)
    signatures = written["training_plans"][1]["signatures"]
    assert [s["fingerprint_matches"] for s in signatures] == [False, True, True]
    assert signatures[0]["content"]["assessment_organisation"] == "Someone Else Assessments"


def test_the_portfolio_pdf_lists_the_current_plan(app, plan_people):
    planned(plan_people)
    portfolio = gather(db.session, plan_people["enrolment"])
    with app.test_request_context():
        pdf = render_document(portfolio, {})
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "Training plan" in text and "Version 1, not yet agreed: 2 planned activities, 243 hours" in text
    assert "Collections care study block" in text
