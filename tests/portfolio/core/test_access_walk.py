"""Walk the URL map: every route refuses anonymous users and users outside its records' relationships.

A new route must be classified here, or given a value for its URL parameters, or this test fails:
that is the point, so that nobody adds a page without deciding who may see it.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from portfolio.core.storage import evidence_store
from portfolio.evidence.readings import make_reading
from portfolio.extensions import db
from portfolio.models import (
    EnrolmentStatus,
    EvidenceComment,
    Export,
    ExportFormat,
    ExportStatus,
    OtjActivity,
    OtjEntry,
    ProgressReview,
    Role,
)
from portfolio.notifications.domain import notify
from portfolio.notifications.kinds import Kind
from portfolio.review.domain import WitnessTestimony
from portfolio.signing.domain import create_testimony_request

from ...filestore import samples
from ...helpers import PDF_BYTES, PNG_BYTES
from ..conftest import sign_in

# The calendar feed opens by its secret link, with no sign-in (tests/portfolio/calendar checks whose it is).
PUBLIC = {
    "static", "auth.sign_in", "home.favicon", "operations.healthz", "operations.readyz", "operations.metrics",
    "calendar.feed",
}  # fmt: skip
# The pages of emailed links and of asking for one: the link, not a sign-in, is what lets them act.
PUBLIC |= {"auth.forgotten_password", "auth.reset_link_sent", "auth.reset_password", "auth.accept_invitation"}
PUBLIC |= {"auth.confirm_email"}
# A witness without an account signs through an emailed link: its token, not a sign-in, lets them in
# (tests/portfolio/signing covers who gets what through it; an unknown token is a 404).
WITNESS_LINK = {"signing.start", "signing.send_code", "signing.verify", "signing.sign", "signing.decline"}
PUBLIC |= WITNESS_LINK
# Pages about the signed-in user's own things (their password, email, calendar link, their notifications:
# the notifications' tests check that nobody reads another's).
EVERY_SIGNED_IN_USER = {
    "home.index", "auth.change_password", "auth.change_email", "auth.sign_out", "calendar.index", "calendar.link",
    "calendar.turn_off_link", "notifications.index", "notifications.mark_read", "notifications.settings",
}  # fmt: skip
# Lists that show each user only what their own relationships allow (their tests check the
# filtering): an outsider gets the page, empty of others' records, or a 404 for the wrong role.
OWN_LISTS = {"review.queue", "cohort.index", "cohort.csv"}


@pytest.fixture
def records(two_employers, world):
    """The museum's records (what outsiders probe) and users who have no relationship to them."""
    museum = two_employers["museum_enrolment"]
    other_provider = world.provider("Elsewhere College")
    other_epao = world.epao("Elsewhere Assessment")
    outsiders = {
        "apprentice of another employer": two_employers["theatre_enrolment"].apprentice,
        "employer of another employer": two_employers["theatre_mentor"],
        "tutor of another provider": world.user(Role.TUTOR, other_provider),
        "assessor of another EPAO": world.user(Role.ASSESSOR, other_epao),
        "assessor of this EPAO before submission": world.user(Role.ASSESSOR, two_employers["epao"]),
    }
    item = world.evidence(museum, files={"plan.pdf": PDF_BYTES, "photo.png": PNG_BYTES})
    comment = EvidenceComment(item=item, author=museum.apprentice, body="Is the budget attached?")
    entry = OtjEntry(
        enrolment=museum, activity_date=museum.start_date, hours=Decimal("3.5"), activity=OtjActivity.WORKSHOP,
        learning="Safeguarding refresher.", created_by=museum.apprentice,
    )  # fmt: skip
    review = ProgressReview(
        enrolment=museum, review_date=museum.start_date, attendees="Apprentice, mentor, tutor",
        progress="On track.", created_by=two_employers["tutor"],
    )  # fmt: skip
    export = Export(
        enrolment=museum, format=ExportFormat.PDF, status=ExportStatus.READY, fingerprint="0" * 64,
        content_key="0" * 64, file_name="portfolio.pdf",
    )  # fmt: skip
    db.session.add_all([comment, entry, review, export])
    [notification] = notify(
        db.session, [museum.apprentice], Kind.EVIDENCE_DECIDED, title="Your plan was accepted", link="/"
    )
    testimony = WitnessTestimony("The lantern parade", museum.start_date, "Led the stewards.", {"S5": "Briefings."})
    signing_request, _ = create_testimony_request(
        db.session, enrolment=museum, by=two_employers["tutor"], witness_email="jo@riverside.example",
        witness_name="", testimony=testimony,
    )  # fmt: skip
    db.session.commit()
    values = {
        "notification_id": notification.id,
        "export_id": export.id,
        "export_format": "pdf",
        "item_id": item.id,
        "file_id": item.files[1].id,
        "comment_id": comment.id,
        "entry_id": entry.id,
        "review_id": review.id,
        "request_id": signing_request.id,
        "code": "K1",
        "enrolment_id": museum.id,
        "user_id": museum.apprentice.id,
        "organisation_id": two_employers["museum"].id,
        "version_id": museum.standard_version_id,
        "filename": "css/application.css",
        "token": "not-a-link-we-sent",
        "number": 1,  # a version of the skills scan or training plan
        "activity_id": 1,  # a planned activity: outsiders never reach it, the enrolment being hidden
    }
    return outsiders, values


def _routes(app, values):
    for rule in app.url_map.iter_rules():
        missing = [arg for arg in rule.arguments if arg not in values]
        assert not missing, f"{rule.endpoint}: give test_access_walk a value for {missing}"
        url = rule.build({arg: values[arg] for arg in rule.arguments})[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, url


def test_every_route_is_walked(app, records):
    _, values = records
    endpoints = {endpoint for endpoint, _, _ in _routes(app, values)}
    assert {"home.enrolment", "admin.index"} <= endpoints


def test_anonymous_users_are_sent_to_sign_in(app, client, records):
    _, values = records
    for endpoint, method, url in _routes(app, values):
        if endpoint in PUBLIC:
            continue
        response = client.open(url, method=method)
        assert response.status_code == 302, f"{method} {url} ({endpoint}) gave {response.status_code}"
        assert response.headers["Location"].startswith("/sign-in"), f"{method} {url}"


def test_the_witness_link_needs_no_sign_in_but_an_unknown_token_is_not_found(app, client, records):
    _, values = records
    walked = set()
    for endpoint, method, url in _routes(app, values):
        if endpoint in WITNESS_LINK:
            response = client.open(url, method=method)
            assert response.status_code == 404, f"{method} {url} ({endpoint}) gave {response.status_code}"
            walked.add(endpoint)
    assert walked == WITNESS_LINK


def test_users_outside_the_relationship_get_404(app, client, records):
    outsiders, values = records
    for who, user in outsiders.items():
        client.get("/")  # a fresh session per outsider
        sign_in(client, user)
        for endpoint, method, url in _routes(app, values):
            if endpoint in PUBLIC | EVERY_SIGNED_IN_USER | OWN_LISTS:
                continue
            response = client.open(url, method=method)
            assert response.status_code == 404, f"{who}: {method} {url} ({endpoint}) gave {response.status_code}"
        client.post("/sign-out")


def test_people_in_the_relationship_see_the_enrolment(client, two_employers, world):
    museum = two_employers["museum_enrolment"]
    admin = world.user(Role.ADMIN, two_employers["provider"])
    db.session.commit()
    for user in (museum.apprentice, two_employers["museum_mentor"], two_employers["tutor"], admin):
        sign_in(client, user)
        assert client.get(f"/enrolments/{museum.id}").status_code == 200, user.role
        client.post("/sign-out")


# Other people's data with no consent on record: who of those who see the item may open its files.
MAY_OPEN_WITHHELD_FILES = {"apprentice": True, "tutor": True, "admin": True, "employer": False, "assessor": False}
WITHHELD = {"notes.pdf": samples.pdf() + b"%withheld notes\n", "group.png": samples.png(3, 5)}


def test_withheld_files_open_only_for_the_apprentice_tutors_and_admins(app, client, two_employers, world, records):
    """As each role who sees the item: every route that GETs a withheld file serves it, or answers
    404 to those who may not open it; and no other GET route shows those its bytes or a link to it."""
    _, values = records
    museum = two_employers["museum_enrolment"]
    item = world.evidence(museum, title="Visitor interviews", files=WITHHELD)
    item.contains_third_party_data = True
    museum.status = EnrolmentStatus.AT_GATEWAY  # so the EPAO's assessor sees it too
    people = {
        "apprentice": museum.apprentice,
        "tutor": two_employers["tutor"],
        "admin": world.user(Role.ADMIN, two_employers["provider"]),
        "employer": two_employers["museum_mentor"],
        "assessor": world.user(Role.ASSESSOR, two_employers["epao"]),
    }
    db.session.commit()
    # The PDF's page drawn for reading, which its page route serves (values' "number" is 1).
    notes = next(f for f in item.files if f.display_name == "notes.pdf")
    drawn = make_reading(db.session, evidence_store(), notes.sha256, notes.media_type).pages[0]
    db.session.commit()
    page_bytes = evidence_store().open(drawn.image_sha256).read()
    # The routes that GET a file (download, preview, a drawn page...), and the bytes each would serve.
    file_routes: dict[str, tuple[str, bytes]] = {}
    not_shown: set[str] = set()
    for evidence_file in item.files:
        for endpoint, method, url in _routes(app, {**values, "item_id": item.id, "file_id": evidence_file.id}):
            if method == "GET" and "file_id" in _arguments(app, endpoint):
                data = page_bytes if endpoint == "evidence.page_image" else WITHHELD[evidence_file.display_name]
                file_routes[url] = (endpoint, data)
                # A preview is of an image, a drawn page of a PDF: the other files' answer 404.
                if endpoint in ("evidence.preview", "evidence.page_image"):
                    shown_kind = "image/png" if endpoint == "evidence.preview" else "application/pdf"
                    if evidence_file.media_type != shown_kind:
                        not_shown.add(url)
    assert {endpoint for endpoint, _ in file_routes.values()} >= {"evidence.download", "evidence.preview"}
    item_values = {**values, "item_id": item.id}
    for who, user in people.items():
        client.get("/")
        sign_in(client, user)
        may_open = MAY_OPEN_WITHHELD_FILES[who]
        served = set()
        # Those who may open the files get them; every other page is walked for those who may not.
        walk = [(endpoint, url) for url, (endpoint, _) in file_routes.items()]
        if not may_open:
            walk += [
                (e, url)
                for e, m, url in _routes(app, item_values)
                if m == "GET" and "file_id" not in _arguments(app, e)
            ]
        for endpoint, url in walk:
            response = client.get(url, buffered=True)  # exports stream: read them inside the request
            body = response.get_data()
            if url in file_routes:
                data = file_routes[url][1]
                if may_open and url not in not_shown:
                    assert (response.status_code, body) == (200, data), f"{who}: {url} ({endpoint})"
                    served.add(endpoint)
                else:
                    assert response.status_code == 404, f"{who}: {url} ({endpoint}) gave {response.status_code}"
            elif response.status_code == 200:
                for file_url, (_, data) in file_routes.items():
                    assert data not in body, f"{who}: {url} ({endpoint}) serves the bytes of {file_url}"
                    assert file_url.encode() not in body, f"{who}: {url} ({endpoint}) links to {file_url}"
        assert served == ({"evidence.download", "evidence.preview", "evidence.page_image"} if may_open else set()), who
        page = client.get(f"/enrolments/{museum.id}/evidence/{item.id}").get_data(as_text=True)
        assert "its files are withheld" in page
        assert ("exports leave them out" if may_open else "listed here without links") in page, who
        downloads = [url for url, (endpoint, _) in file_routes.items() if endpoint == "evidence.download"]
        assert all((url in page) is may_open for url in downloads), who
        client.post("/sign-out")


def _arguments(app, endpoint: str) -> set[str]:
    return next(rule.arguments for rule in app.url_map.iter_rules() if rule.endpoint == endpoint)
