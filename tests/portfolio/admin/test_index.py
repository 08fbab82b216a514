"""The admin home page: what the installation holds, at a glance."""

from __future__ import annotations

import re

from portfolio.enrolments.domain import change_status
from portfolio.extensions import db
from portfolio.models import EnrolmentStatus

from .conftest import text_of


def count_after(html: str, label: str) -> int:
    match = re.search(rf"{re.escape(label)}\s*</dt>\s*<dd[^>]*>\s*<a[^>]*>(\d+)", html)
    assert match, f"no count for {label}"
    return int(match.group(1))


def test_counts_by_kind_role_and_status(as_admin, two_employers):
    change_status(db.session, two_employers["theatre_enrolment"], EnrolmentStatus.BREAK_IN_LEARNING, None)
    db.session.commit()
    html = text_of(as_admin.get("/admin/"))
    assert "Administration" in html
    assert count_after(html, "Employer") == 2
    assert count_after(html, "Training provider") == 1
    assert count_after(html, "Assessment organisation (EPAO)") == 1
    assert count_after(html, "Apprentice") == 2
    assert count_after(html, "Tutor") == 1
    assert count_after(html, "Administrator") == 1
    assert count_after(html, "Assessor (assessment organisation)") == 0
    assert count_after(html, "On programme") == 1
    assert count_after(html, "Break in learning") == 1
    assert count_after(html, "Stored versions") == 1
    for link in ["/admin/organisations/new", "/admin/users/new", "/admin/enrolments/new", "/admin/standards/new",
                 "/admin/users?role=tutor", "/admin/enrolments?status=break_in_learning"]:  # fmt: skip
        assert f'href="{link}"' in html, link


def test_home_sends_administrators_to_the_admin_area(as_admin):
    response = as_admin.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"
