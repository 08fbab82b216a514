"""The figures the pages show for the demo data, checked against arithmetic done here by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from portfolio.demo import build_demo
from portfolio.extensions import db
from portfolio.models import Enrolment, OtjEntry, OtjStatus, User

from .conftest import sign_in


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
    today = date.today()
    elapsed = (today - enrolment.start_date).days
    total = (enrolment.planned_end_date - enrolment.start_date).days
    expected = (Decimal(enrolment.planned_otj_hours) * elapsed / total).quantize(Decimal("0.01"))

    sign_in(client, enrolment.apprentice, "demo password 123")
    html = client.get(f"/enrolments/{enrolment.id}/otj").get_data(as_text=True)
    for figure in (logged, approved, expected, logged - expected):
        shown = f"{abs(figure):,.2f}".rstrip("0").rstrip(".")
        assert f"{shown} hours" in html, (figure, shown)
    assert logged > approved > 0
