"""Pages issue a fixed number of SQL queries, whatever the number of enrolments."""

from __future__ import annotations

import pytest

from portfolio.enrolments.domain import change_status
from portfolio.extensions import db
from portfolio.models import EnrolmentStatus, Role

from ..conftest import counting_queries, sign_in


def _cohort(world, provider, employer, epao, tutor, size):
    enrolments = [world.enrolment(employer=employer, provider=provider, tutor=tutor, epao=epao) for _ in range(size)]
    for enrolment in enrolments[::2]:
        change_status(db.session, enrolment, EnrolmentStatus.AT_GATEWAY, None)
    db.session.commit()
    return enrolments


def _queries(client, url):
    with counting_queries() as count:
        response = client.get(url)
    assert response.status_code == 200
    return count()


@pytest.mark.parametrize("role", [Role.TUTOR, Role.EMPLOYER, Role.ASSESSOR, Role.APPRENTICE, Role.ADMIN])
def test_home_page_queries_do_not_grow_with_enrolments(client, world, role):
    provider, employer, epao = world.provider(), world.employer(), world.epao()
    tutor = world.user(Role.TUTOR, provider)
    users = {
        Role.TUTOR: tutor,
        Role.EMPLOYER: world.user(Role.EMPLOYER, employer),
        Role.ASSESSOR: world.user(Role.ASSESSOR, epao),
        Role.ADMIN: world.user(Role.ADMIN, provider),
    }
    counts = []
    for size in (10, 290):  # 10, then 300 in all
        enrolments = _cohort(world, provider, employer, epao, tutor, size)
        user = users.get(role) or enrolments[0].apprentice
        sign_in(client, user)
        if role is Role.ADMIN:
            urls = ["/admin/", "/admin/enrolments?q=a&page=2"]
        else:
            urls = ["/", "/?q=a&status=at_gateway&page=2"]
        counts.append(tuple(_queries(client, url) for url in urls))
        client.post("/sign-out")
    assert counts[0] == counts[1], counts
    assert max(counts[0]) <= 9, counts  # a tutor's to-do list: reviews, OTJ, progress reviews, declarations


def test_enrolment_page_queries_are_fixed(client, world):
    provider, employer = world.provider(), world.employer()
    tutor = world.user(Role.TUTOR, provider)
    enrolments = _cohort(world, provider, employer, None, tutor, 40)
    sign_in(client, tutor)
    counts = {_queries(client, f"/enrolments/{e.id}") for e in enrolments[:5]}
    assert len(counts) == 1 and counts.pop() <= 8
