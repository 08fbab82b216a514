"""The calendar feed: a secret, revocable link to each user's progress reviews and deadlines."""

from __future__ import annotations

import logging
import re
from datetime import date

import icalendar
import pytest
from sqlalchemy import select

from portfolio.calendar import domain as calendar_domain
from portfolio.calendar.domain import active_feed, feed_with_token, make_link, turn_off
from portfolio.core.domain import DomainError
from portfolio.core.sign_in_sessions import token_hash
from portfolio.extensions import db
from portfolio.models import AuditEvent, CalendarFeed, EnrolmentStatus, ProgressReview, ReviewInterval, Role

from ..conftest import counting_queries, sign_in

LINK = re.compile(r'value="(http://localhost/calendar/[A-Za-z0-9_-]+\.ics)"')


@pytest.fixture
def people(two_employers, world):
    """The two employers' apprenticeships, a recorded review of the museum's, and the enrolment of
    another provider, which none of them sees."""
    museum = two_employers["museum_enrolment"]
    review = ProgressReview(
        enrolment=museum, review_date=date(2025, 11, 24), attendees="Apprentice, mentor, tutor",
        progress="On track.", created_by=two_employers["tutor"],
    )  # fmt: skip
    db.session.add(review)
    elsewhere = world.enrolment(employer=two_employers["museum"])  # the museum's, at another provider
    world.enrolment(provider=two_employers["provider"]).status = EnrolmentStatus.WITHDRAWN
    world.enrolment(provider=two_employers["provider"]).status = EnrolmentStatus.COMPLETED
    db.session.commit()
    return {**two_employers, "review": review, "elsewhere": elsewhere}


def _new_link(client, user) -> str:
    """Sign in as `user`, make a calendar link on the page, and return it as the page shows it."""
    client.post("/sign-out")
    sign_in(client, user)
    made = client.post("/calendar/link")
    assert made.status_code == 303 and made.headers["Location"] == "/calendar"
    match = LINK.search(client.get("/calendar").get_data(as_text=True))
    assert match, "the new link is not on the page"
    return match.group(1)


def _calendar(app, url: str) -> icalendar.Calendar:
    """The feed as a calendar app fetches it: no cookie, no sign-in."""
    response = app.test_client().get(url)
    assert response.status_code == 200, response.status_code
    return icalendar.Calendar.from_ical(response.data)


def _events(app, url: str) -> dict[str, icalendar.Event]:
    return {str(event["UID"]): event for event in _calendar(app, url).walk("VEVENT")}


def _uids(enrolment, review=None) -> set[str]:
    uids = {f"{kind}-{enrolment.id}@localhost" for kind in ("review-due", "gateway-earliest", "planned-end")}
    return uids | ({f"review-{review.id}@localhost"} if review else set())


def test_a_link_is_shown_once_and_opens_a_feed_that_parses(app, client, people):
    apprentice, museum = people["museum_enrolment"].apprentice, people["museum_enrolment"]
    sign_in(client, apprentice)
    assert "Create a calendar link" in client.get("/calendar").get_data(as_text=True)
    url = _new_link(client, apprentice)
    again = client.get("/calendar").get_data(as_text=True)
    assert url not in again and "Replace link" in again and "Turn off" in again  # shown once only
    response = app.test_client().get(url)
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Set-Cookie" not in response.headers
    calendar = icalendar.Calendar.from_ical(response.data)
    assert str(calendar["VERSION"]) == "2.0"
    events = {str(event["UID"]): event for event in calendar.walk("VEVENT")}
    assert set(events) == _uids(museum, people["review"])
    end = events[f"planned-end-{museum.id}@localhost"]
    assert end.decoded("DTSTART") == museum.planned_end_date and type(end.decoded("DTSTART")) is date  # all day
    assert end.decoded("DTEND") == date(2026, 9, 29)
    assert str(end["SUMMARY"]) == f"Planned end of the apprenticeship: {apprentice.name}"
    assert str(end["URL"]) == f"http://localhost/enrolments/{museum.id}"
    review = events[f"review-{people['review'].id}@localhost"]
    assert review.decoded("DTSTART") == date(2025, 11, 24) and "Not yet signed by all three" in str(
        review["DESCRIPTION"]
    )
    due = events[f"review-due-{museum.id}@localhost"]
    assert museum.review_interval is ReviewInterval.THREE_MONTHS  # as for every start from 2025
    assert due.decoded("DTSTART") == date(2025, 12, 1)  # three months after the start: no review is complete
    gateway = events[f"gateway-earliest-{museum.id}@localhost"]
    # A start on 1 September 2025 follows the rules from August 2025: 8 months, to 1 May 2026.
    assert museum.start_date == date(2025, 9, 1) and gateway.decoded("DTSTART") == date(2026, 5, 1)
    assert "8 months" in str(gateway["DESCRIPTION"])
    assert set(_events(app, url)) == set(events)  # the same UIDs on every fetch: updated, not added


def test_each_role_sees_its_own_apprenticeships_and_no_other_organisations(app, client, people, world):
    museum, theatre, elsewhere = people["museum_enrolment"], people["theatre_enrolment"], people["elsewhere"]
    review = people["review"]
    expected = {
        museum.apprentice: _uids(museum, review),
        people["museum_mentor"]: _uids(museum, review) | _uids(elsewhere),  # the museum's, at both providers
        people["theatre_mentor"]: _uids(theatre),
        people["tutor"]: _uids(museum, review) | _uids(theatre),  # the provider's, not the withdrawn one
    }
    for user, uids in expected.items():
        events = _events(app, _new_link(client, user))
        assert set(events) == uids, user.role
        names = " ".join(str(event["SUMMARY"]) + str(event["DESCRIPTION"]) for event in events.values())
        for other in {museum, theatre, elsewhere} - {e for e in (museum, theatre, elsewhere) if _uids(e) & uids}:
            assert other.apprentice.name not in names, user.role
        for person in (people["tutor"], people["museum_mentor"], people["theatre_mentor"]):
            assert person.name not in names  # nobody is named but the apprentices


def test_an_assessor_sees_what_was_submitted_to_their_organisation(app, client, people, world):
    museum = people["museum_enrolment"]
    museum.status = EnrolmentStatus.AT_GATEWAY
    assessor = world.user(Role.ASSESSOR, people["epao"])
    db.session.commit()
    events = _events(app, _new_link(client, assessor))
    # At the gateway no review falls due and the earliest gateway has passed.
    assert set(events) == {f"planned-end-{museum.id}@localhost", f"review-{people['review'].id}@localhost"}


def test_a_replaced_link_finds_nothing_and_the_new_one_works(app, client, people):
    apprentice = people["museum_enrolment"].apprentice
    old = _new_link(client, apprentice)
    page = client.post("/calendar/link", follow_redirects=True).get_data(as_text=True)
    assert "Your calendar link has been replaced" in page
    new = LINK.search(page).group(1)
    assert new != old
    assert app.test_client().get(old).status_code == 404
    assert _calendar(app, new)


def test_a_link_turned_off_finds_nothing(app, client, people):
    apprentice = people["museum_enrolment"].apprentice
    url = _new_link(client, apprentice)
    page = client.post("/calendar/turn-off", follow_redirects=True).get_data(as_text=True)
    assert "Your calendar link has been turned off" in page and "Create a calendar link" in page
    response = app.test_client().get(url)
    assert response.status_code == 404
    assert (
        response.headers["Referrer-Policy"] == "no-referrer"
        and response.headers["Cache-Control"] == "private, no-store"
    )
    again = client.post("/calendar/turn-off", follow_redirects=True).get_data(as_text=True)
    assert "You have no calendar link to turn off." in again


def test_unknown_tokens_and_deactivated_users_find_nothing(app, client, people):
    apprentice = people["museum_enrolment"].apprentice
    url = _new_link(client, apprentice)
    anonymous = app.test_client()
    for other in ("/calendar/nothing.ics", url.replace(".ics", "x.ics"), f"/calendar/{'a' * 10_000}.ics", url[:-4]):
        assert anonymous.get(other).status_code == 404, other[:60]
    apprentice.active = False
    db.session.commit()
    assert anonymous.get(url).status_code == 404


def test_only_the_links_hash_is_kept_and_every_change_is_audited(app, client, people):
    apprentice = people["museum_enrolment"].apprentice
    first = _new_link(client, apprentice)
    client.post("/calendar/link")
    client.post("/calendar/turn-off")
    token = first.rsplit("/", 1)[1].removesuffix(".ics")
    feeds = db.session.scalars(select(CalendarFeed).order_by(CalendarFeed.id)).all()
    assert [feed.token_hash == token_hash(token) for feed in feeds] == [True, False]
    assert all(feed.revoked_at is not None for feed in feeds)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.startswith("calendar."))).all()
    assert [(e.action, e.actor_id, e.subject_id) for e in events] == [
        ("calendar.link_created", apprentice.id, apprentice.id),
        ("calendar.link_replaced", apprentice.id, apprentice.id),
        ("calendar.link_turned_off", apprentice.id, apprentice.id),
    ]
    assert all(token not in e.after and token_hash(token) not in e.after for e in events)


def test_the_access_log_never_shows_the_link(app, client, people, caplog):
    url = _new_link(client, people["museum_enrolment"].apprentice)
    with caplog.at_level(logging.INFO, logger="portfolio.access"):
        app.test_client().get(url)
    lines = [record for record in caplog.records if record.name == "portfolio.access"]
    assert lines and lines[-1].path == "/calendar/<token>.ics"
    assert url.rsplit("/", 1)[1] not in caplog.text


def test_the_feed_reads_the_same_few_queries_however_many_apprenticeships(app, client, world, people):
    tutor = people["tutor"]
    url = _new_link(client, tutor)

    def count() -> int:
        with counting_queries() as queries:
            events = _events(app, url)
        return queries(), len(events)

    few, listed = count()
    for _ in range(5):
        enrolment = world.enrolment(provider=people["provider"])
        db.session.add(
            ProgressReview(
                enrolment=enrolment, review_date=enrolment.start_date, attendees="All three", progress="Fine.",
                created_by=tutor,
            )
        )  # fmt: skip
    db.session.commit()
    assert listed == 3 * 2 + 1
    assert count() == (few, 3 * 7 + 6)  # 7 apprenticeships, 6 reviews: no more queries
    assert few <= 5  # the link and its user, the apprenticeships, their standards, their reviews, the last complete


def test_text_with_commas_semicolons_and_long_lines_survives_the_file(app, people):
    apprentice = people["museum_enrolment"].apprentice
    apprentice.name = "Zoë O’Brien-Łukasz; known, to friends, as \\Zed\\ " + "very long " * 10
    made = make_link(db.session, apprentice)
    db.session.commit()
    data = app.test_client().get(f"/calendar/{made.token}.ics").data
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))  # folded, as RFC 5545 says
    summaries = {str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(data).walk("VEVENT")}
    assert f"Planned end of the apprenticeship: {apprentice.name}" in summaries


def test_making_a_link_again_replaces_it_and_one_link_works(people):
    apprentice = people["museum_enrolment"].apprentice
    first = make_link(db.session, apprentice)
    second = make_link(db.session, apprentice)
    db.session.commit()
    assert (first.replaced, second.replaced) == (False, True)
    assert active_feed(db.session, apprentice) is second.feed
    assert feed_with_token(db.session, first.token) is None
    assert feed_with_token(db.session, second.token) is second.feed
    turn_off(db.session, apprentice)
    assert feed_with_token(db.session, second.token) is None
    with pytest.raises(DomainError, match="no calendar link to turn off"):
        turn_off(db.session, apprentice)


def test_a_feed_lists_at_most_so_many_apprenticeships_those_ending_soonest(people, monkeypatch):
    monkeypatch.setattr(calendar_domain, "MAX_ENROLMENTS", 1)
    museum, theatre = people["museum_enrolment"], people["theatre_enrolment"]
    theatre.planned_end_date = date(2026, 6, 30)  # before the museum's
    db.session.commit()
    events = calendar_domain.feed_events(db.session, people["tutor"], date(2026, 1, 5))
    assert {event.uid for event in events} == {
        f"{kind}-{theatre.id}" for kind in ("review-due", "gateway-earliest", "planned-end")
    }
    assert museum.apprentice.name not in " ".join(event.description for event in events)
