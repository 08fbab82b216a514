"""The figures the pages show for the demo data, checked against arithmetic done here by hand."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from sqlalchemy import select

from portfolio.core import clock
from portfolio.demo.build import build_demo
from portfolio.extensions import db
from portfolio.models import (
    CriterionJudgement,
    Enrolment,
    EvidenceItem,
    EvidenceStatus,
    LinkDecision,
    OtjEntry,
    OtjStatus,
    ProgressReview,
    User,
)

from ..conftest import sign_in


@pytest.fixture
def demo(app):
    build_demo("demo password 123")
    db.session.commit()

    def enrolment_of(email: str) -> Enrolment:
        user = db.session.scalar(select(User).where(User.email == email))
        return db.session.scalar(select(Enrolment).where(Enrolment.apprentice_id == user.id))

    return enrolment_of


def test_the_otj_page_shows_the_demo_apprentices_hours_and_pace(client, demo):
    enrolment = demo("amira.hassan@harbourside-museum.example")
    entries = db.session.scalars(select(OtjEntry).where(OtjEntry.enrolment_id == enrolment.id)).all()
    logged = sum((e.hours for e in entries), Decimal(0))
    approved = sum((e.hours for e in entries if e.status is OtjStatus.APPROVED), Decimal(0))
    today = clock.today()
    elapsed = (today - enrolment.start_date).days
    total = (enrolment.planned_end_date - enrolment.start_date).days
    expected = (Decimal(enrolment.planned_otj_hours) * elapsed / total).quantize(Decimal("0.01"))

    sign_in(client, enrolment.apprentice, "demo password 123")
    html = client.get(f"/enrolments/{enrolment.id}/otj").get_data(as_text=True)
    for figure in (logged, approved, expected, logged - expected):
        shown = f"{abs(figure):,.2f}".rstrip("0").rstrip(".")
        assert f"{shown} hours" in html, (figure, shown)
    assert logged > approved > 0


def test_the_cohort_table_shows_the_demo_cohorts_figures(client, demo):
    tutor = db.session.scalar(select(User).where(User.email == "priya.natarajan@northgate-arts.example"))
    sign_in(client, tutor, "demo password 123")
    response = client.get("/cohort.csv?sort=apprentice", buffered=True)  # the body streams
    rows = {
        row["Apprentice"]: row for row in csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")))
    }
    enrolments = db.session.scalars(select(Enrolment).where(Enrolment.provider_id == tutor.organisation_id)).all()
    assert set(rows) == {e.apprentice.name for e in enrolments} and len(rows) >= 3
    today = clock.today()
    for enrolment in enrolments:
        row = rows[enrolment.apprentice.name]
        codes = set(enrolment.standard_version.standard.codes)
        items = db.session.scalars(select(EvidenceItem).where(EvidenceItem.enrolment_id == enrolment.id)).all()
        judgements = db.session.scalars(
            select(CriterionJudgement)
            .where(CriterionJudgement.enrolment_id == enrolment.id)
            .order_by(CriterionJudgement.id)
        ).all()
        current = {j.criterion_code: j for j in judgements}  # the newest of each criterion wins
        met = {code for code, j in current.items() if j.met}
        counted = (EvidenceStatus.SUBMITTED, EvidenceStatus.REFERRED, EvidenceStatus.ACCEPTED)
        evidenced = {c for i in items if i.status in counted for c in i.codes} | met
        # A criterion accepted on its own counts, even on an item referred back for another.
        accepted = {
            link.criterion_code
            for i in items
            if i.status in counted
            for link in i.links
            if i.status is EvidenceStatus.ACCEPTED or link.decision is LinkDecision.ACCEPTED
        } | met
        entries = db.session.scalars(select(OtjEntry).where(OtjEntry.enrolment_id == enrolment.id)).all()
        elapsed = min(
            max((today - enrolment.start_date).days, 0), (enrolment.planned_end_date - enrolment.start_date).days
        )
        expected = (
            Decimal(enrolment.planned_otj_hours) * elapsed / (enrolment.planned_end_date - enrolment.start_date).days
        )
        complete = [r.review_date for r in enrolment_reviews(enrolment) if r.completed_at is not None]

        assert int(row["Criteria"]) == len(codes)
        assert int(row["Criteria evidenced"]) == len(evidenced & codes)
        assert int(row["Criteria accepted"]) == len(accepted & codes)
        assert int(row["Criteria judged met"]) == len(met & codes)
        assert int(row["Evidence awaiting review"]) == sum(i.status is EvidenceStatus.SUBMITTED for i in items)
        assert Decimal(row["Off-the-job hours logged"]) == sum((e.hours for e in entries), Decimal(0))
        assert Decimal(row["Off-the-job hours approved"]) == sum(
            (e.hours for e in entries if e.status is OtjStatus.APPROVED), Decimal(0)
        )
        assert Decimal(row["Off-the-job hours expected by today"]) == expected.quantize(Decimal("0.01"))
        assert row["Last progress review"] == (max(complete).isoformat() if complete else "")
    # The demo has something in every column, so that the comparisons above compare figures.
    for column in ("Criteria judged met", "Evidence awaiting review", "Off-the-job hours approved"):
        assert any(Decimal(row[column]) > 0 for row in rows.values()), column
    assert any(row["Last progress review"] for row in rows.values())


def enrolment_reviews(enrolment: Enrolment) -> list[ProgressReview]:
    return db.session.scalars(select(ProgressReview).where(ProgressReview.enrolment_id == enrolment.id)).all()
