"""Pages issue a fixed number of SQL queries, whatever the number of enrolments."""

from __future__ import annotations

import pytest

from portfolio.enrolments.domain import change_status
from portfolio.extensions import db
from portfolio.gateway.domain import GATEWAY_ITEMS, decide_gateway, submit_to_epao
from portfolio.home.todo import todo_list
from portfolio.models import EnrolmentStatus, Role

from ..conftest import counting_queries, sign_in
from ..gateway_world import TODAY, accept, ready_enrolment, sign_all


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
    # A tutor's to-do list: evidence, OTJ, progress reviews to sign and overdue, the gateway (here two
    # queries find nothing near it), referrals, comments; with the header's unread notifications.
    assert max(counts[0]) <= 14, counts


def _near_the_gateway(world, tutor, mentor, size: int) -> None:
    """Apprenticeships at every gateway step the to-do lists show: ready with nothing signed,
    declarations out of date, ready to submit, referred back by the assessment organisation."""
    for n in range(size):
        gateway = ready_enrolment(world, tutor=tutor, mentor=mentor)
        if n % 4:
            sign_all(gateway)
        if n % 4 == 1:
            accept(world.evidence(gateway.enrolment, title="Late evaluation"), tutor)
        if n % 4 == 3:
            submission = submit_to_epao(db.session, gateway.enrolment, by=tutor, today=TODAY)
            referred = {code: (True, "") for code in GATEWAY_ITEMS} | {"otj_hours": (False, "Not evidenced")}
            decide_gateway(db.session, submission, by=gateway.assessor, decisions=referred)
    db.session.commit()


@pytest.mark.parametrize("role", [Role.TUTOR, Role.EMPLOYER])
def test_the_to_do_lists_near_the_gateway_take_the_same_queries_for_two_apprenticeships_as_for_six(client, world, role):
    provider, employer = world.provider(), world.employer()
    tutor, mentor = world.user(Role.TUTOR, provider), world.user(Role.EMPLOYER, employer)
    user = tutor if role is Role.TUTOR else mentor
    counts, todos = [], []
    for size in (2, 4):  # 2, then 6 in all
        _near_the_gateway(world, tutor, mentor, size)
        sign_in(client, user)
        counts.append(_queries(client, "/"))
        todos.append(todo_list(db.session, user))
        client.post("/sign-out")
    # Referred back, the next attempt is to be signed afresh.
    assert [t.declarations_to_sign for t in todos] == [1, 3] and [t.declarations_out_of_date for t in todos] == [1, 2]
    assert [t.reviews_overdue for t in todos] == [2, 6]  # their latest review was seven months ago
    if role is Role.TUTOR:
        assert [t.ready_to_submit for t in todos] == [0, 1] and [t.referred_by_assessor for t in todos] == [0, 1]
    assert counts[0] == counts[1], counts
    # The gateway: fifteen queries for all of them (gateway_standings, reading the portfolios whose
    # fingerprints each check keeps for a referral).
    assert counts[0] <= 27, counts


def test_enrolment_page_queries_are_fixed(client, world):
    provider, employer = world.provider(), world.employer()
    tutor = world.user(Role.TUTOR, provider)
    enrolments = _cohort(world, provider, employer, None, tutor, 40)
    sign_in(client, tutor)
    counts = {_queries(client, f"/enrolments/{e.id}") for e in enrolments[:5]}
    # The same for every enrolment: with the start's agreements (the skills scan and the training
    # plan) and the employer's verification of behaviours, nine.
    assert len(counts) == 1 and counts.pop() <= 9
