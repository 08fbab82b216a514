"""The skills scan in the export: every version in the manifest, which follows its schema."""

from __future__ import annotations

import jsonschema

from portfolio.exports.gather import gather
from portfolio.exports.manifest import Document, manifest, schema
from portfolio.extensions import db
from portfolio.training_plan import agreements
from portfolio.training_plan.skills_scan import SKILLS_SCAN, PriorLearningDetails, record_prior_learning, sign_scan

from .conftest import ready_scan


def test_every_version_of_the_scan_is_in_the_manifest_and_follows_the_schema(scan_people):
    people = scan_people
    enrolment = people["enrolment"]
    first = ready_scan(people, hours=60, months=1)
    seen = agreements.content_fingerprint(SKILLS_SCAN, first)
    sign_scan(db.session, first, by=people["apprentice"], seen=seen)
    details = PriorLearningDetails(hours=40, months=0, items=[("K1", "The parish archive")])
    second = record_prior_learning(db.session, enrolment, by=people["tutor"], details=details)
    for role in ("apprentice", "employer", "tutor"):
        sign_scan(db.session, second, by=people[role], seen=agreements.content_fingerprint(SKILLS_SCAN, second))
    db.session.commit()
    documents = {name: Document(path, "0" * 64, 1) for name, path in (("pdf", "p.pdf"), ("mapping_csv", "m.csv"))}
    written = manifest(gather(db.session, enrolment), documents)
    jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker()).validate(written)
    scans = written["skills_scans"]
    assert [s["version"] for s in scans] == [1, 2]
    assert scans[0]["agreed_at"] is None and [s["signer"] for s in scans[0]["signatures"]] == ["apprentice"]
    assert scans[1]["prior_learning"] == {
        "otj_hours": 40, "months": 0, "summary": "", "items": [{"subject": "K1", "reason": "The parish archive"}],
    }  # fmt: skip
    assert scans[0]["signatures"][0]["fingerprint"] == seen
    assert {r["code"]: r["employer_rating"] for r in scans[1]["ratings"]}["K1"] == "confident"
