"""The people of the off-the-job log and progress review page tests, and reading their pages."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from portfolio.core import clock
from portfolio.extensions import db
from portfolio.models import Role

from .conftest import sign_in

TODAY = clock.today()
START = TODAY - timedelta(days=200)


@pytest.fixture
def people(world):
    provider, employer = world.provider("Northgate Arts Training"), world.employer("Harbourside Museum")
    tutor = world.user(Role.TUTOR, provider, name="Priya Natarajan")
    mentor = world.user(Role.EMPLOYER, employer, name="Helen Osei")
    enrolment = world.enrolment(
        employer=employer, provider=provider, tutor=tutor, mentor=mentor, start=START,
        planned_end_date=START + timedelta(days=548), planned_otj_hours=375,
    )  # fmt: skip
    other_provider = world.provider("Elsewhere College")
    db.session.commit()
    return {
        "enrolment": enrolment,
        "apprentice": enrolment.apprentice,
        "tutor": tutor,
        "employer": mentor,
        "other_tutor": world.user(Role.TUTOR, other_provider),
        "other_employer": world.user(Role.EMPLOYER, world.employer()),
        "other_apprentice": world.enrolment(provider=other_provider, start=START).apprentice,
    }


def day_fields(day: date) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]


def error_summary(html: str) -> str:
    match = re.search(r'govuk-error-summary__list">(.*?)</ul>', html, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split()) if match else ""


def banner_text(html: str) -> str:
    match = re.search(r'govuk-notification-banner__content">(.*?)</div>', html, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split()) if match else ""


def signed_in_as(client, user):
    client.post("/sign-out")
    sign_in(client, user)
    client.get("/")  # shows, and so clears, the sign-out message
    return client
