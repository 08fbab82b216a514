"""The off-the-job log pages: each role's journey, bad input, access and query counts."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from portfolio.core.wording import hours_text
from portfolio.extensions import db
from portfolio.models import (
    AuditEvent,
    Notification,
    OtjActivity,
    OtjEntry,
    OtjStatus,
)
from portfolio.otj.domain import enrolment_otj_summary

from ..conftest import counting_queries
from ..progress_world import START, TODAY, banner_text, day_fields, error_summary, signed_in_as


def _entry_form(**overrides):
    data = {
        "activity_date": day_fields(TODAY - timedelta(days=2)),
        "hours": "3.5",
        "activity": "workshop",
        "learning": "Facilitation techniques for family audiences.",
        "criteria": ["K1", "S5"],
    }
    data.update(overrides)
    return data


def _entries() -> list[OtjEntry]:
    return list(db.session.scalars(select(OtjEntry).order_by(OtjEntry.id)))


def test_apprentice_logs_tutor_approves_and_totals_follow(client, people):
    enrolment = people["enrolment"]
    url = f"/enrolments/{enrolment.id}/otj"
    signed_in_as(client, people["apprentice"])
    page = client.get(url).get_data(as_text=True)
    assert "No training logged yet" in page and "Log training" in page
    assert client.get(f"{url}/new").status_code == 200

    response = client.post(f"{url}/new", data=_entry_form())
    assert response.status_code == 302, error_summary(response.get_data(as_text=True))
    response = client.post(f"{url}/new", data=_entry_form(hours="6", activity="self_study", criteria=[]))
    assert response.status_code == 302
    first, second = _entries()
    assert (first.hours, first.activity, first.criteria, first.status) == (
        Decimal("3.50"), OtjActivity.WORKSHOP, "K1 S5", OtjStatus.LOGGED
    )  # fmt: skip
    assert first.created_by_id == people["apprentice"].id

    page = client.get(url).get_data(as_text=True)
    expected = enrolment_otj_summary(db.session, enrolment).expected
    assert "9.5 hours" in page  # logged
    assert f"Expected by {TODAY.day} {TODAY:%B %Y}" in page and hours_text(expected) in page
    assert f"Logged hours are {hours_text(expected - Decimal('9.5'))} behind the expected pace" in page
    assert "<svg" in page and 'role="img"' in page and "Cumulative hours by month" in page
    assert 'style="' not in page and "<script>" not in page

    signed_in_as(client, people["tutor"])
    page = client.get(f"{url}/{first.id}").get_data(as_text=True)
    assert "Approve entry" in page and "Query entry" in page
    response = client.post(f"{url}/{first.id}/approve")
    assert response.status_code == 302
    assert _entries()[0].status is OtjStatus.APPROVED
    assert _entries()[0].reviewed_by_id == people["tutor"].id
    page = client.get(url).get_data(as_text=True)
    assert re.search(r"Approved\s*</dt>\s*<dd[^>]*>\s*3.5 hours", page)
    assert "Approve entry" not in client.get(f"{url}/{first.id}").get_data(as_text=True)


def test_every_bad_entry_is_refused_with_a_message_and_nothing_saved(client, people):
    url = f"/enrolments/{people['enrolment'].id}/otj/new"
    signed_in_as(client, people["apprentice"])
    cases = [
        ({"hours": "25"}, "An entry can be at most 24 hours"),
        ({"hours": "24.5"}, "An entry can be at most 24 hours"),
        ({"hours": "0"}, "The hours must be more than 0"),
        ({"hours": "-3"}, "The hours must be more than 0"),
        ({"hours": "1.555"}, "Give the hours to at most 2 decimal places"),
        ({"hours": "three"}, "Enter the hours as a number, like 1.5"),
        ({"hours": "NaN"}, "Enter the hours as a number, like 1.5"),
        ({"hours": "1e400"}, "An entry can be at most 24 hours"),
        ({"hours": ""}, "Enter the hours"),
        (
            {"activity_date": day_fields(TODAY + timedelta(days=1))},
            "The date of the training must be today or in the past",
        ),
        ({"activity_date": day_fields(START - timedelta(days=1))}, "on or after the start of the apprenticeship"),
        ({"activity_date": ["31", "2", "2026"]}, "must be a real date"),
        ({"activity_date": ["", "", ""]}, "Enter the date of the training"),
        ({"criteria": ["K1", "Z9"]}, "Z9 is not a criterion of ST0396"),
        ({"learning": "x" * 2001}, "What you learnt must be 2,000 characters or fewer"),
        ({"learning": ""}, "Say what you learnt"),
        ({"activity": "holiday"}, "Choose the kind of training"),
        ({"activity": ""}, "Choose the kind of training"),
    ]
    for overrides, message in cases:
        response = client.post(url, data=_entry_form(**overrides))
        html = response.get_data(as_text=True)
        assert response.status_code == 200, overrides
        assert message in error_summary(html), (overrides, error_summary(html))
        assert "govuk-error-message" in html
    # Several problems at once are all reported.
    html = client.post(url, data=_entry_form(hours="25", learning="", criteria=["Q1"])).get_data(as_text=True)
    assert all(m in error_summary(html) for m in ("at most 24 hours", "Say what you learnt", "Q1 is not a criterion"))
    assert _entries() == []


def test_edit_delete_and_query_cycle(client, people):
    enrolment = people["enrolment"]
    url = f"/enrolments/{enrolment.id}/otj"
    signed_in_as(client, people["apprentice"])
    client.post(f"{url}/new", data=_entry_form())
    client.post(f"{url}/new", data=_entry_form(hours="1"))
    entry, spare = _entries()

    edit = client.get(f"{url}/{entry.id}/edit").get_data(as_text=True)
    assert 'value="3.5"' in edit and 'value="K1" checked' in edit
    response = client.post(f"{url}/{entry.id}/edit", data=_entry_form(hours="4.25", criteria=["S1"]))
    assert response.status_code == 302
    assert (_entries()[0].hours, _entries()[0].criteria) == (Decimal("4.25"), "S1")
    response = client.post(f"{url}/{entry.id}/edit", data=_entry_form(hours="30"))
    assert "at most 24 hours" in error_summary(response.get_data(as_text=True))
    assert _entries()[0].hours == Decimal("4.25")

    assert client.get(f"{url}/{spare.id}/delete").status_code == 200
    assert client.post(f"{url}/{spare.id}/delete").status_code == 302
    assert len(_entries()) == 1

    signed_in_as(client, people["tutor"])
    response = client.post(f"{url}/{entry.id}/query", data={"note": ""})
    assert response.status_code == 200 and "Say what needs checking" in error_summary(response.get_data(as_text=True))
    response = client.post(f"{url}/{entry.id}/query", data={"note": "x" * 2001})
    assert "2,000 characters or fewer" in error_summary(response.get_data(as_text=True))
    assert _entries()[0].status is OtjStatus.LOGGED
    response = client.post(f"{url}/{entry.id}/query", data={"note": "Was this during your working hours?"})
    assert response.status_code == 302 and _entries()[0].status is OtjStatus.QUERIED
    # The tutor cannot edit the apprentice's entry.
    assert client.get(f"{url}/{entry.id}/edit").status_code == 404

    signed_in_as(client, people["apprentice"])
    page = client.get(f"{url}/{entry.id}").get_data(as_text=True)
    assert "Was this during your working hours?" in page and "Queried" in page
    assert "Was this during your working hours?" in client.get(f"{url}/{entry.id}/edit").get_data(as_text=True)
    response = client.post(f"{url}/{entry.id}/edit", data=_entry_form(hours="2"))
    assert response.status_code == 302
    assert (_entries()[0].status, _entries()[0].hours) == (OtjStatus.LOGGED, Decimal("2.00"))
    # The apprentice cannot approve their own entry.
    assert client.post(f"{url}/{entry.id}/approve").status_code == 404
    assert client.post(f"{url}/approve", data={"entry": [str(entry.id)]}).status_code == 404

    signed_in_as(client, people["tutor"])
    client.post(f"{url}/{entry.id}/approve")
    assert _entries()[0].status is OtjStatus.APPROVED
    # An approved entry is read-only: a clear message, not a form.
    signed_in_as(client, people["apprentice"])
    for path in (f"{url}/{entry.id}/edit", f"{url}/{entry.id}/delete"):
        response = client.get(path, follow_redirects=True)
        assert "Approved training cannot be changed" in response.get_data(as_text=True)
    client.post(f"{url}/{entry.id}/edit", data=_entry_form(hours="9"))
    client.post(f"{url}/{entry.id}/delete")
    assert _entries()[0].hours == Decimal("2.00")
    page = client.get(f"{url}/{entry.id}").get_data(as_text=True)
    assert "/edit" not in page and "Earlier query" not in page

    signed_in_as(client, people["tutor"])
    client.post(f"{url}/{entry.id}/approve")
    assert "This entry is already approved" in banner_text(client.get(url).get_data(as_text=True))
    response = client.post(f"{url}/{entry.id}/query", data={"note": ""})
    assert response.status_code == 302
    assert "Only entries awaiting approval can be queried" in banner_text(client.get(url).get_data(as_text=True))


def test_tutor_approves_several_entries_from_the_list(client, people):
    url = f"/enrolments/{people['enrolment'].id}/otj"
    signed_in_as(client, people["apprentice"])
    for hours in ("1", "2", "3"):
        client.post(f"{url}/new", data=_entry_form(hours=hours))
    ids = [e.id for e in _entries()]
    assert "Approve selected entries" not in client.get(url).get_data(as_text=True)
    signed_in_as(client, people["tutor"])
    page = client.get(f"{url}?status=logged").get_data(as_text=True)
    assert "Approve selected entries" in page and page.count('name="entry"') == 3
    response = client.post(f"{url}/approve?status=logged", data={"entry": [str(ids[0]), str(ids[2]), "x"]})
    assert response.status_code == 302 and response.headers["Location"].endswith("status=logged")
    assert [e.status for e in _entries()] == [OtjStatus.APPROVED, OtjStatus.LOGGED, OtjStatus.APPROVED]
    assert "2 entries approved" in banner_text(client.get(url).get_data(as_text=True))
    client.post(f"{url}/approve")
    assert "Choose the entries to approve" in client.get(url).get_data(as_text=True)


def test_tutor_queries_several_entries_with_one_question_in_a_fixed_number_of_queries(client, people):
    url = f"/enrolments/{people['enrolment'].id}/otj"
    signed_in_as(client, people["apprentice"])
    for hours in ("1", "2", "3", "4", "5", "6"):
        client.post(f"{url}/new", data=_entry_form(hours=hours))
    ids = [str(e.id) for e in _entries()]
    signed_in_as(client, people["tutor"])
    client.post(f"{url}/approve", data={"entry": ids[5]})  # approved: no longer queried
    # A note is needed; nothing changes without one.
    client.post(f"{url}/approve", data={"entry": ids[:2], "action": "query", "note": "  "})
    assert "Say what needs checking" in client.get(url).get_data(as_text=True)
    assert {e.status for e in _entries()[:5]} == {OtjStatus.LOGGED}
    counts = []
    for chosen in (ids[:1] + ids[5:], ids[1:6]):  # one entry to query (and one approved), then four
        with counting_queries() as count:
            data = {"entry": chosen, "action": "query", "note": "Which session was this?"}
            assert client.post(f"{url}/approve", data=data).status_code == 302
        counts.append(count())
    assert counts[0] == counts[1], counts
    entries = _entries()
    assert [e.status for e in entries] == [OtjStatus.QUERIED] * 5 + [OtjStatus.APPROVED]
    assert {e.query_note for e in entries[:5]} == {"Which session was this?"}
    assert "4 entries queried: the apprentice can now change them" in client.get(url).get_data(as_text=True)
    titles = [n.title for n in db.session.scalars(select(Notification).order_by(Notification.id))]
    assert f"{people['tutor'].name} queried 4 of your off-the-job training entries" in titles
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "otj.queried")).all()
    assert len(events) == 5  # one per entry


def test_others_see_the_log_but_only_the_provider_decides(client, people):
    enrolment = people["enrolment"]
    url = f"/enrolments/{enrolment.id}/otj"
    signed_in_as(client, people["apprentice"])
    client.post(f"{url}/new", data=_entry_form())
    entry = _entries()[0]

    signed_in_as(client, people["employer"])
    page = client.get(url).get_data(as_text=True)
    assert "3.5 hours" in page and "Log training" not in page
    assert "Approve entry" not in client.get(f"{url}/{entry.id}").get_data(as_text=True)
    for method, path in (("post", f"{url}/{entry.id}/approve"), ("post", f"{url}/{entry.id}/query"),
                         ("post", f"{url}/approve"), ("get", f"{url}/new"), ("get", f"{url}/{entry.id}/edit")):  # fmt: skip
        assert getattr(client, method)(path).status_code == 404, path

    # A tutor of another provider: the records do not exist for them.
    signed_in_as(client, people["other_tutor"])
    for method, path in (("get", url), ("get", f"{url}/{entry.id}"), ("post", f"{url}/{entry.id}/approve"),
                         ("post", f"{url}/{entry.id}/query"), ("post", f"{url}/approve")):  # fmt: skip
        assert getattr(client, method)(path, data={"note": "Hm", "entry": [str(entry.id)]}).status_code == 404, path
    assert _entries()[0].status is OtjStatus.LOGGED
    # An entry id under another enrolment's URL is a 404 too.
    signed_in_as(client, people["other_apprentice"])
    other = db.session.scalar(select(OtjEntry.enrolment_id).limit(1))
    assert client.get(f"/enrolments/{other}/otj/{entry.id}").status_code == 404


def test_otj_page_queries_do_not_grow_with_entries(client, people, world):
    enrolment = people["enrolment"]
    url = f"/enrolments/{enrolment.id}/otj"

    def add(count):
        for n in range(count):
            db.session.add(OtjEntry(
                enrolment=enrolment, activity_date=START + timedelta(days=n % 190), hours=Decimal("1.25"),
                activity=OtjActivity.SELF_STUDY, learning="Reading.", criteria="K1",
                status=OtjStatus.APPROVED if n % 3 else OtjStatus.LOGGED, created_by=enrolment.apprentice,
            ))  # fmt: skip
        db.session.commit()

    counts = []
    for user in (people["apprentice"], people["tutor"]):
        signed_in_as(client, user)
        for total, more in ((5, 5), (300, 295)):
            add(more)
            with counting_queries() as count:
                response = client.get(f"{url}?page=2" if total == 300 else url)
            assert response.status_code == 200
            assert f"{total} entries" in response.get_data(as_text=True)
            counts.append(count())
        db.session.query(OtjEntry).delete()
        db.session.commit()
    assert counts[0] == counts[1] and counts[2] == counts[3], counts
    # One of them reads the breaks in learning, which the pace leaves out; one the agreed training
    # plan's activities, for the planned hours to date.
    assert max(counts) <= 9, counts
