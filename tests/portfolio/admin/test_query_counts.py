"""Admin pages issue a fixed number of SQL queries, whatever the number of rows (10 or 300)."""

from __future__ import annotations

import pytest

from portfolio.enrolments.domain import change_status
from portfolio.extensions import db
from portfolio.models import EnrolmentStatus, OrganisationKind, Role

from ..conftest import counting_queries
from .conftest import bulk_enrolments, bulk_organisations, bulk_standard_versions, bulk_users


def queries_for(client, url: str) -> int:
    with counting_queries() as count:
        response = client.get(url)
    assert response.status_code == 200, url
    return count()


def add_organisations(world, n):
    bulk_organisations(n, OrganisationKind.EMPLOYER)


def add_users(world, n):
    provider = world.provider()
    db.session.commit()
    bulk_users(n, Role.TUTOR, provider)


def add_enrolments(world, n):
    employer, provider = world.employer(), world.provider()
    version = world.standard_version()
    db.session.commit()
    bulk_enrolments(n, version, employer, provider)


def add_standard_versions(world, n):
    version = world.standard_version()
    db.session.commit()
    bulk_standard_versions(n, version)


def add_everything(world, n):
    add_organisations(world, n)
    add_users(world, n)
    add_enrolments(world, n)


def add_free_apprentices_and_staff(world, n):
    employer = world.employer()
    db.session.commit()
    bulk_users(n, Role.APPRENTICE, employer)
    bulk_users(n, Role.EMPLOYER, employer)
    add_users(world, n)
    bulk_organisations(n, OrganisationKind.PROVIDER)
    bulk_organisations(n, OrganisationKind.EPAO)


PAGES = [
    ("/admin/", add_everything),
    ("/admin/organisations", add_organisations),
    ("/admin/organisations?kind=employer&q=bulk", add_organisations),
    ("/admin/users", add_users),
    ("/admin/users?role=tutor&q=bulk&page=2", add_users),
    ("/admin/enrolments", add_enrolments),
    ("/admin/enrolments?status=on_programme&q=bulk", add_enrolments),
    ("/admin/standards", add_standard_versions),
    ("/admin/users/new", add_organisations),
    ("/admin/enrolments/new", add_free_apprentices_and_staff),
]


@pytest.mark.parametrize(("url", "add_rows"), PAGES)
def test_list_pages_issue_the_same_queries_for_10_and_300_rows(as_admin, world, url, add_rows):
    add_rows(world, 10)
    with_10 = queries_for(as_admin, url)
    add_rows(world, 290)
    with_300 = queries_for(as_admin, url)
    assert with_10 == with_300, f"{url}: {with_10} queries with 10 rows, {with_300} with 300"
    assert with_300 <= 8, f"{url}: {with_300} queries"


def test_the_enrolment_page_does_not_grow_with_its_history(as_admin, two_employers, admin):
    enrolment = two_employers["museum_enrolment"]
    url = f"/admin/enrolments/{enrolment.id}"
    short = queries_for(as_admin, url)
    for _ in range(15):
        change_status(db.session, enrolment, EnrolmentStatus.BREAK_IN_LEARNING, admin, "Leave")
        change_status(db.session, enrolment, EnrolmentStatus.ON_PROGRAMME, admin, "Back")
    db.session.commit()
    assert queries_for(as_admin, url) == short
    assert queries_for(as_admin, f"/admin/enrolments/{enrolment.id}/edit") <= 8


def test_the_user_page_of_an_apprentice_does_not_grow_with_their_enrolments(as_admin, two_employers, world):
    apprentice = two_employers["museum_enrolment"].apprentice
    url = f"/admin/users/{apprentice.id}"
    one = queries_for(as_admin, url)
    change_status(db.session, two_employers["museum_enrolment"], EnrolmentStatus.WITHDRAWN, None)
    for _ in range(3):
        enrolment = world.enrolment(apprentice=apprentice, provider=two_employers["provider"])
        change_status(db.session, enrolment, EnrolmentStatus.WITHDRAWN, None)
    db.session.commit()
    assert queries_for(as_admin, url) == one
