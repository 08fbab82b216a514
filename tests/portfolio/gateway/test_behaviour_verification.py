"""The employer verifies the behaviours before the gateway to completion, where the standard's
assessment plan says so: the flag, the readiness check, the signed and fingerprinted verification
(the newest counts, every one is kept), the gateway item, the to-do list and the query counts."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from portfolio.core.domain import DomainError
from portfolio.extensions import db
from portfolio.gateway.behaviours import (
    fingerprint_of_signed,
    sign_behaviour_verification,
    verification_fingerprint,
    verification_state,
)
from portfolio.gateway.domain import (
    GATEWAY_ITEMS,
    ITEM_TITLES,
    decide_gateway,
    gateway_items,
    readiness,
    readiness_of_each,
    referral_outstanding,
    sign_declaration,
    submit_to_epao,
)
from portfolio.home.todo import todo_list
from portfolio.models import (
    AuditEvent,
    BehaviourDecision,
    BehaviourVerification,
    Enrolment,
    EnrolmentStatus,
    Notification,
    Role,
)
from portfolio.notifications.kinds import Kind

from ..conftest import counting_queries
from ..gateway_world import (
    TODAY,
    approved_hours,
    confirm_behaviours,
    ready,
    ready_enrolment,
    sign_all,
    verifying_version,
)

pytestmark = pytest.mark.one_transaction  # stays on db.session: rolled back, not emptied

__all__ = ["ready"]  # a fixture: imported so that the tests here can use it

BEHAVIOURS = [f"B{n}" for n in range(1, 12)]  # ST0396's eleven behaviours


@pytest.fixture
def verifying(world):
    """A ready apprenticeship on a standard whose plan has the employer verify the behaviours,
    not yet verified."""
    gateway = ready_enrolment(world, standard_version=verifying_version(), behaviours_verified=False)
    db.session.commit()
    return gateway


def _checks(enrolment) -> dict:
    return {check.code: check for check in readiness(db.session, enrolment, TODAY)}


def _all(confirmed: bool = True, **notes: str) -> dict[str, tuple[bool, str]]:
    """Every behaviour confirmed (or not), with the notes given by code; a code with a note given
    as "not yet: ..." is not yet confirmed."""
    decisions = {}
    for code in BEHAVIOURS:
        note = notes.get(code, "")
        decisions[code] = (confirmed and not note.startswith("not yet"), note)
    return decisions


# The flag -------------------------------------------------------------------------------------


def test_where_the_standard_does_not_ask_there_is_no_check_but_the_employer_may_verify(ready):
    assert not ready.enrolment.standard_version.standard.gateway.employer_verifies_behaviours
    checks = _checks(ready.enrolment)
    assert "behaviours" not in checks and all(check.passed for check in checks.values())
    assert gateway_items(ready.enrolment.standard_version.standard) == GATEWAY_ITEMS
    state = verification_state(db.session, ready.enrolment)
    assert state is not None and not state.required and state.verification is None
    # Not yet confirming B3 holds nothing up: the gateway does not wait for the verification here.
    decisions = _all() | {"B3": (False, "Not seen with a new team yet.")}
    sign_behaviour_verification(db.session, ready.enrolment, by=ready.mentor, decisions=decisions)
    db.session.commit()
    state = verification_state(db.session, ready.enrolment)
    assert state is not None and state.verification is not None and state.not_confirmed == ["B3"]
    assert all(check.passed for check in _checks(ready.enrolment).values())


def test_where_the_standard_asks_the_gateway_has_the_check_and_the_item(verifying):
    standard = verifying.enrolment.standard_version.standard
    assert standard.gateway.employer_verifies_behaviours
    assert gateway_items(standard) == (*GATEWAY_ITEMS[:-1], "behaviours", "declarations")
    check = _checks(verifying.enrolment)["behaviours"]
    assert check.title == ITEM_TITLES["behaviours"] == "Employer has verified the behaviours"
    assert not check.passed
    assert check.detail == (
        "The employer has not verified the behaviours yet: 11 to confirm (B1, B2, B3, B4, B5, B6, B7, B8, B9, B10, B11)"
    )


# The check ------------------------------------------------------------------------------------


def test_the_check_passes_only_when_the_newest_verification_confirms_every_behaviour(verifying):
    enrolment, mentor = verifying.enrolment, verifying.mentor
    confirm_behaviours(enrolment, mentor, B3="not yet: leads a session alone", B7="not yet: has not been tested")
    check = _checks(enrolment)["behaviours"]
    assert not check.passed
    assert check.detail.startswith(f"2 of 11 behaviours not yet confirmed by the employer ({mentor.name}, ")
    assert check.detail.endswith("): B3, B7")
    assert not readiness(db.session, enrolment, TODAY).ready
    with pytest.raises(DomainError, match="Employer has verified the behaviours"):
        sign_declaration(db.session, enrolment, by=verifying.apprentice, today=TODAY)

    newest = confirm_behaviours(enrolment, mentor)  # all confirmed now: it replaces the last
    check = _checks(enrolment)["behaviours"]
    assert check.passed and check.detail.startswith(f"All 11 behaviours confirmed by the employer ({mentor.name}, ")
    assert readiness(db.session, enrolment, TODAY).ready
    kept = db.session.scalars(select(BehaviourVerification).order_by(BehaviourVerification.id)).all()
    assert [v.not_yet for v in kept] == [["B3", "B7"], []] and kept[-1] is newest  # both kept; the newest counts

    confirm_behaviours(enrolment, mentor, B11="not yet: a change of heart")  # the newest counts, whatever came before
    assert _checks(enrolment)["behaviours"].detail.endswith("): B11")


def test_a_behaviour_whose_statement_changed_since_it_was_verified_is_not_confirmed(verifying):
    verification = confirm_behaviours(verifying.enrolment, verifying.mentor)
    db.session.execute(
        update(BehaviourDecision)
        .where(BehaviourDecision.verification_id == verification.id, BehaviourDecision.criterion_code == "B2")
        .values(statement="An older wording of B2.")
    )  # as signed on another version of the standard
    db.session.expire_all()
    check = _checks(verifying.enrolment)["behaviours"]
    assert not check.passed and check.detail.endswith(": B2; the statement of B2 has changed since it was verified")


# Signing --------------------------------------------------------------------------------------


def test_the_verification_keeps_each_statement_decision_and_note_as_signed(verifying):
    enrolment = verifying.enrolment
    standard = enrolment.standard_version.standard
    verification = sign_behaviour_verification(
        db.session, enrolment, by=verifying.mentor, decisions=_all(B1="Greets every visitor.", B4="not yet: soon.  \n")
    )
    decisions = {d.criterion_code: d for d in verification.decisions}
    assert list(decisions) == BEHAVIOURS
    assert decisions["B1"].confirmed and decisions["B1"].note == "Greets every visitor."
    assert not decisions["B4"].confirmed and decisions["B4"].note == "not yet: soon."  # as typed, tidied
    assert all(d.statement == standard[d.criterion_code].text for d in decisions.values())
    assert verification.signed_by_id == verifying.mentor.id and verification.signed_at is not None
    rows = [(d.criterion_code, d.statement, d.confirmed, d.note) for d in verification.decisions]
    assert (
        verification.fingerprint == verification_fingerprint(enrolment.id, rows) == fingerprint_of_signed(verification)
    )


def test_the_fingerprint_changes_when_a_decision_or_a_note_changes(verifying):
    enrolment, mentor = verifying.enrolment, verifying.mentor
    rows = [(code, enrolment.standard_version.standard[code].text, True, "") for code in BEHAVIOURS]
    base = verification_fingerprint(enrolment.id, rows)
    assert verification_fingerprint(enrolment.id, list(rows)) == base  # the same record, the same fingerprint
    decision_changed = [(*rows[0][:2], False, "Not yet."), *rows[1:]]
    note_changed = [(*rows[0][:3], "A note."), *rows[1:]]
    statement_changed = [(rows[0][0], "Another statement.", *rows[0][2:]), *rows[1:]]
    fingerprints = {
        base,
        verification_fingerprint(enrolment.id, decision_changed),
        verification_fingerprint(enrolment.id, note_changed),
        verification_fingerprint(enrolment.id, statement_changed),
        verification_fingerprint(enrolment.id + 1, rows),
    }
    assert len(fingerprints) == 5

    signed = [confirm_behaviours(enrolment, mentor)]
    signed.append(confirm_behaviours(enrolment, mentor, B5="not yet: needs prompting"))
    signed.append(confirm_behaviours(enrolment, mentor, B5="not yet: needs prompting less"))
    assert signed[0].fingerprint == base
    assert len({v.fingerprint for v in signed}) == 3
    # The check's fingerprint follows the newest verification.
    before = _checks(enrolment)["behaviours"].fingerprint
    confirm_behaviours(enrolment, mentor)
    assert _checks(enrolment)["behaviours"].fingerprint != before


def test_a_record_changed_after_signing_no_longer_matches_its_fingerprint(verifying):
    verification = confirm_behaviours(verifying.enrolment, verifying.mentor)
    db.session.execute(update(BehaviourDecision).where(BehaviourDecision.criterion_code == "B6").values(note="Added."))
    db.session.expire_all()
    verification = db.session.get(BehaviourVerification, verification.id)
    assert fingerprint_of_signed(verification) != verification.fingerprint


def test_a_behaviour_not_yet_confirmed_needs_a_note_and_every_behaviour_a_decision(verifying):
    enrolment, mentor = verifying.enrolment, verifying.mentor
    cases = [
        ({**_all(), "B3": (False, "   ")}, "note_B3", "Say what is not yet shown for B3"),
        ({code: d for code, d in _all().items() if code != "B9"}, "decision_B9", "Choose Confirmed or Not yet for B9"),
        ({**_all(), "B3": (False, "x" * 2_001)}, "note_B3", "The note for B3 must be 2,000 characters or fewer"),
        ({**_all(), "K1": (True, "")}, None, "K1 is not a behaviour of ST0396"),
    ]
    for decisions, field, words in cases:
        with pytest.raises(DomainError, match=words) as caught:
            sign_behaviour_verification(db.session, enrolment, by=mentor, decisions=decisions)
        assert caught.value.field == field
    db.session.rollback()
    assert db.session.scalar(select(func.count(BehaviourVerification.id))) == 0


def test_the_same_person_signing_the_same_verification_again_changes_nothing(world, verifying):
    enrolment, mentor = verifying.enrolment, verifying.mentor
    confirm_behaviours(enrolment, mentor)
    with pytest.raises(DomainError, match="You already signed this verification"):
        confirm_behaviours(enrolment, mentor)
    line_manager = world.user(Role.EMPLOYER, enrolment.employer)  # another of the employer's people may
    confirm_behaviours(enrolment, line_manager)
    newest = verification_state(db.session, enrolment).verification
    assert newest.signed_by_id == line_manager.id
    assert db.session.scalar(select(func.count(BehaviourVerification.id))) == 2


def test_only_the_employers_people_verify_and_only_on_programme(world, verifying):
    enrolment = verifying.enrolment
    someone_else = world.user(Role.EMPLOYER, world.employer())
    admin = world.user(Role.ADMIN, enrolment.provider)
    for user in (verifying.apprentice, verifying.tutor, verifying.assessor, someone_else, admin):
        with pytest.raises(DomainError, match="Only someone of the apprentice's employer"):
            sign_behaviour_verification(db.session, enrolment, by=user, decisions=_all())
    confirm_behaviours(enrolment, verifying.mentor)
    sign_all(verifying)
    submit_to_epao(db.session, enrolment, by=verifying.tutor, today=TODAY)
    with pytest.raises(DomainError, match="before the gateway to completion; this apprenticeship is at gateway"):
        confirm_behaviours(enrolment, verifying.mentor, B1="not yet: changed my mind")


def test_signing_is_audited_and_tells_the_apprentice_and_the_tutor(verifying):
    enrolment, mentor = verifying.enrolment, verifying.mentor
    first = confirm_behaviours(enrolment, mentor, B2="not yet: shy with partners")
    second = confirm_behaviours(enrolment, mentor)
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "gateway.behaviours_verified").order_by(AuditEvent.id)
    ).all()
    assert [(e.subject_type, e.subject_id, e.actor_id, e.enrolment_id) for e in events] == [
        ("behaviour_verification", first.id, mentor.id, enrolment.id),
        ("behaviour_verification", second.id, mentor.id, enrolment.id),
    ]
    assert f'"fingerprint":"{first.fingerprint}"' in events[1].before and '"not_yet":["B2"]' in events[1].before
    assert f'"fingerprint":"{second.fingerprint}"' in events[1].after and '"not_yet":[]' in events[1].after
    told = db.session.scalars(
        select(Notification).where(Notification.kind == Kind.BEHAVIOURS_VERIFIED.value).order_by(Notification.id)
    ).all()
    assert sorted({n.user_id for n in told}) == sorted({verifying.apprentice.id, verifying.tutor.id})
    assert len(told) == 4 and mentor.id not in {n.user_id for n in told}
    apprentice = verifying.apprentice.name
    assert (
        told[0].title == f"{mentor.name} of {enrolment.employer.name} confirmed 10 of 11 of {apprentice}'s behaviours"
    )
    assert told[0].body == "B2 not yet: not yet: shy with partners"
    assert told[-1].title == f"{mentor.name} of {enrolment.employer.name} confirmed all 11 of {apprentice}'s behaviours"
    assert told[-1].link == f"/enrolments/{enrolment.id}/gateway#behaviour-verification"


# The gateway item -----------------------------------------------------------------------------


def test_the_assessor_decides_the_behaviours_and_a_referral_waits_for_a_new_verification(world, verifying):
    enrolment, mentor = verifying.enrolment, verifying.mentor
    confirm_behaviours(enrolment, mentor)
    sign_all(verifying)
    submission = submit_to_epao(db.session, enrolment, by=verifying.tutor, today=TODAY)
    items = gateway_items(enrolment.standard_version.standard)
    without = {code: (True, "") for code in GATEWAY_ITEMS}
    with pytest.raises(DomainError, match="Decide every gateway item: Employer has verified the behaviours"):
        decide_gateway(db.session, submission, by=verifying.assessor, decisions=without)
    decisions = without | {"behaviours": (False, "B6 is confirmed without any evidence of team working.")}
    decide_gateway(db.session, submission, by=verifying.assessor, decisions=decisions)
    assert [d.item for d in submission.item_decisions] == list(items)
    kept = {d.item: d.fingerprint for d in submission.item_decisions}
    assert kept["behaviours"] == _checks(enrolment)["behaviours"].fingerprint  # what it looked at, as submitted
    assert enrolment.status is EnrolmentStatus.ON_PROGRAMME

    referral = referral_outstanding(db.session, enrolment, TODAY)
    assert referral is not None and [item.code for item in referral.outstanding] == ["behaviours"]
    # The same verification signed again by another of the employer's people is a change of who signed.
    confirm_behaviours(enrolment, world.user(Role.EMPLOYER, enrolment.employer), B6="not yet: being observed")
    assert referral_outstanding(db.session, enrolment, TODAY) is None
    assert not _checks(enrolment)["behaviours"].passed


def test_an_unchanged_verification_keeps_its_fingerprint_for_the_gateway(verifying):
    """The gateway item's fingerprint reads the newest verification only: another enrolment's, or
    other parts of the portfolio, leave it alone."""
    enrolment = verifying.enrolment
    confirm_behaviours(enrolment, verifying.mentor)
    before = _checks(enrolment)["behaviours"].fingerprint
    approved = _checks(enrolment)["otj_hours"].fingerprint
    approved_hours(enrolment, "3")
    db.session.flush()
    assert _checks(enrolment)["otj_hours"].fingerprint != approved
    assert _checks(enrolment)["behaviours"].fingerprint == before


# Many at once: the to-do list and the query counts -------------------------------------------


def test_the_employer_is_asked_to_verify_once_the_criteria_are_complete(world, verifying):
    mentor = verifying.mentor
    todo = todo_list(db.session, mentor, TODAY)
    assert todo.behaviours_to_verify == 1 and not todo.empty
    assert [p.enrolment_id for p in todo.verify_by_enrolment] == [verifying.enrolment.id]
    assert todo_list(db.session, verifying.tutor, TODAY).behaviours_to_verify == 0  # the employer's to do
    confirm_behaviours(verifying.enrolment, mentor, B8="not yet: under pressure")
    assert todo_list(db.session, mentor, TODAY).behaviours_to_verify == 1  # still not every one
    confirm_behaviours(verifying.enrolment, mentor)
    todo = todo_list(db.session, mentor, TODAY)
    assert todo.behaviours_to_verify == 0 and todo.declarations_to_sign == 1  # now the declaration


def test_readiness_of_many_takes_the_same_queries_whatever_their_number(world, ready):
    version = verifying_version()

    def more(n: int) -> None:
        for number in range(n):
            ready_enrolment(world, standard_version=version, behaviours_verified=bool(number % 2))
            ready_enrolment(world)  # a standard that does not ask, beside them
        db.session.commit()

    def count() -> tuple[int, int]:
        enrolments = db.session.scalars(select(Enrolment).order_by(Enrolment.id)).all()
        with counting_queries() as queries:
            found = readiness_of_each(db.session, enrolments, TODAY)
        with_check = sum("behaviours" in {c.code for c in r} for r in found.values())
        return queries(), with_check

    more(2)
    db.session.expire_all()
    few, few_checked = count()
    more(4)
    db.session.expire_all()
    many, many_checked = count()
    assert (few_checked, many_checked) == (2, 6)
    assert few == many


def test_readiness_of_one_takes_one_query_more_where_the_standard_asks(verifying, ready):
    confirm_behaviours(verifying.enrolment, verifying.mentor)
    db.session.commit()
    db.session.expire_all()
    with counting_queries() as without:
        readiness(db.session, ready.enrolment, TODAY)
    db.session.expire_all()
    with counting_queries() as with_check:
        readiness(db.session, verifying.enrolment, TODAY)
    assert with_check() == without() + 1
