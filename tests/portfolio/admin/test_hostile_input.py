"""Every admin form survives hostile input: a clear message, status 200, and nothing changed."""

from __future__ import annotations

import pytest

from .conftest import database_state, text_of

ENROLMENT_FIELDS = [
    "provider", "epao", "tutor", "mentor", "start_date", "planned_end_date", "planned_otj_hours", "age_band",
    "english_maths_route", "english_maths_decided_on", "minimum_months_override",
]  # fmt: skip


def forms(two_employers) -> list[tuple[str, list[str]]]:
    """(url, field names) of every admin form that changes something."""
    enrolment = two_employers["museum_enrolment"]
    return [
        ("/admin/organisations/new", ["name", "kind"]),
        (f"/admin/organisations/{enrolment.employer_id}", ["name"]),
        ("/admin/users/new", ["name", "email", "role", "organisation", "password"]),
        (f"/admin/users/{enrolment.apprentice_id}/password", ["password"]),
        ("/admin/enrolments/new", ["apprentice", "standard_version", *ENROLMENT_FIELDS]),
        (f"/admin/enrolments/{enrolment.id}/edit", ENROLMENT_FIELDS),
        (f"/admin/enrolments/{enrolment.id}/status", ["status", "note"]),
        ("/admin/standards/new", ["yaml_text", "yaml_file"]),
    ]


HOSTILE_VALUES = {
    "long": lambda: "x" * 10_000,
    "long digits": lambda: "9" * 10_000,
    "null byte": lambda: "12\x00",
    "markup": lambda: '"><script>alert(1)</script>',
    "several values": lambda: ["1", "2", "3", "4"],
    "negative": lambda: "-1",
    "blank": lambda: "   ",
}


@pytest.mark.parametrize("kind", HOSTILE_VALUES)
def test_hostile_values_in_every_field(as_admin, two_employers, kind):
    enrolment = two_employers["museum_enrolment"]
    rename, password = (
        f"/admin/organisations/{enrolment.employer_id}",
        f"/admin/users/{enrolment.apprentice_id}/password",
    )
    # Harmless text that is a valid name or password (a NUL is dropped: "12" is a valid name).
    acceptable = {(rename, harmless) for harmless in ("markup", "several values", "negative", "null byte")} | {
        (password, "markup")
    }
    for url, fields in forms(two_employers):
        before = database_state()
        response = as_admin.post(url, data={field: HOSTILE_VALUES[kind]() for field in fields})
        if response.status_code == 302 and (url, kind) in acceptable:
            # Shown escaped, if at all.
            page = as_admin.get(response.headers["Location"]).get_data(as_text=True)
            assert "govuk-notification-banner--success" in page and "<script>alert(1)</script>" not in page
            continue
        html = text_of(response)
        assert response.status_code == 200, (url, kind)
        assert "There is a problem" in html, (url, kind)
        assert "<script>alert(1)</script>" not in response.get_data(as_text=True), (url, kind)
        assert database_state() == before, (url, kind)


def test_empty_and_missing_forms(as_admin, two_employers):
    for url, _fields in forms(two_employers):
        before = database_state()
        for body in ({}, {"unexpected": "field"}):
            response = as_admin.post(url, data=body)
            assert response.status_code == 200, url
            assert "There is a problem" in text_of(response), url
        assert database_state() == before


def test_json_bodies_are_not_read_as_forms(as_admin, two_employers):
    for url, fields in forms(two_employers):
        before = database_state()
        for body in ({field: 12345 for field in fields}, {field: [1, {"a": None}] for field in fields}, [1, 2], "x"):
            response = as_admin.post(url, json=body)
            assert response.status_code == 200, (url, body)
        assert database_state() == before
