"""The notifications pages: each person sees and reads only their own; the mail page is for administrators."""

from __future__ import annotations

from sqlalchemy import select

from portfolio.extensions import db
from portfolio.models import Notification, NotificationPreference, Role
from portfolio.models.notifications import Delivery
from portfolio.notifications import domain
from portfolio.notifications.kinds import Kind
from tests.portfolio.conftest import sign_in


def told(person, title="Evidence from Ada Lovelace", link="/"):
    [notification] = domain.notify(db.session, [person], Kind.EVIDENCE_SUBMITTED, title=title, link=link)
    return notification


def test_the_header_counts_unread_and_the_list_shows_only_ones_own(app, world, signed_in):
    provider = world.provider()
    tutor, other = world.user(Role.TUTOR, provider), world.user(Role.TUTOR, provider)
    told(tutor, "For the tutor")
    told(other, "For someone else")
    client = signed_in(tutor)
    page = client.get("/notifications").get_data(as_text=True)
    assert "For the tutor" in page and "For someone else" not in page
    assert '1<span class="govuk-visually-hidden"> unread</span>' in page


def test_following_a_notification_reads_it_and_anothers_is_404(app, world, signed_in):
    provider = world.provider()
    tutor, other = world.user(Role.TUTOR, provider), world.user(Role.TUTOR, provider)
    mine, theirs = told(tutor, link="/review"), told(other)
    client = signed_in(tutor)
    response = client.get(f"/notifications/{mine.id}")
    assert (response.status_code, response.location) == (302, "/review")
    assert client.get(f"/notifications/{theirs.id}").status_code == 404
    assert db.session.get(Notification, mine.id).read_at is not None
    assert db.session.get(Notification, theirs.id).read_at is None


def test_mark_all_as_read_touches_only_ones_own(app, world, signed_in):
    provider = world.provider()
    tutor, other = world.user(Role.TUTOR, provider), world.user(Role.TUTOR, provider)
    told(tutor), told(tutor), told(other)
    client = signed_in(tutor)
    assert client.post("/notifications/read").status_code == 302
    assert domain.unread_count(db.session, tutor) == 0
    assert domain.unread_count(db.session, other) == 1
    assert "You have no unread notifications." in client.get("/notifications?show=unread").get_data(as_text=True)


def test_settings_keep_each_choice_and_refuse_nonsense(app, world, signed_in):
    apprentice = world.user(Role.APPRENTICE, world.employer())
    client = signed_in(apprentice)
    page = client.get("/notifications/settings").get_data(as_text=True)
    assert "Evidence accepted or referred back" in page and "Evidence submitted for review" not in page
    choices = {kind.value: "email_now" for kind in domain.preferences(db.session, apprentice)}
    choices["comment"] = "in_app"
    assert client.post("/notifications/settings", data=choices).status_code == 302
    stored = db.session.scalar(select(NotificationPreference).where(NotificationPreference.kind == "comment"))
    assert stored.delivery is Delivery.IN_APP
    response = client.post("/notifications/settings", data={**choices, "comment": "carrier pigeon"})
    assert response.status_code == 200
    assert "Choose how you hear about new comments on evidence" in response.get_data(as_text=True)
    assert (
        db.session.scalar(select(NotificationPreference.delivery).where(NotificationPreference.kind == "comment"))
        is Delivery.IN_APP
    )


def test_the_mail_page_is_for_administrators_only(app, world):
    provider = world.provider()
    tutor = world.user(Role.TUTOR, provider)
    told(tutor)
    tutors_client, admins_client = app.test_client(), app.test_client()
    sign_in(tutors_client, tutor)
    sign_in(admins_client, world.user(Role.ADMIN, provider))
    assert tutors_client.get("/admin/mail").status_code == 404
    page = admins_client.get("/admin/mail").get_data(as_text=True)
    assert tutor.email in page and "Evidence is waiting for your review" in page
    assert "No mail server is set" in page


def test_signed_out_visitors_are_sent_to_sign_in(app, client):
    for path in ("/notifications", "/notifications/1", "/notifications/settings"):
        assert client.get(path).status_code == 302
