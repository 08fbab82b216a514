"""The gateway's rules: readiness checks, declarations and their staleness, submission to the
EPAO, the assessor's decision, numbered attempts, and the portfolio frozen in between."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from funding_rules import add_calendar_months
from portfolio.core.domain import DomainError
from portfolio.core.fingerprint import portfolio_fingerprint
from portfolio.core.storage import evidence_store, max_upload_bytes
from portfolio.enrolments.domain import change_status, change_status_by_hand, status_changes_by_hand
from portfolio.enrolments.standard_versions import store_standard
from portfolio.evidence.items import EvidenceDetails, Upload, create_item, submit, withdraw
from portfolio.extensions import db
from portfolio.gateway.domain import (
    GATEWAY_ITEMS,
    Standing,
    decide_gateway,
    declaration_status,
    gateway_overview,
    readiness,
    referral_outstanding,
    sign_declaration,
    submit_to_epao,
)
from portfolio.home.todo import todo_list
from portfolio.models import (
    AgeBand,
    AuditEvent,
    Enrolment,
    EnrolmentStatus,
    EvidenceItem,
    EvidenceKind,
    EvidenceStatus,
    GatewayDeclaration,
    GatewayItemDecision,
    GatewayOutcome,
    GatewaySubmission,
    OtjStatus,
    Role,
    User,
)
from portfolio.otj.domain import approve_entry
from portfolio.review.domain import WitnessTestimony, create_testimony, record_judgement, sign_testimony, start_review
from standard import Signer, shipped_path

from ...helpers import PDF_BYTES
from ..conftest import counting_queries
from ..gateway_world import START, TODAY, accept, approved_hours, ready, ready_enrolment, review, sign_all

pytestmark = pytest.mark.one_transaction  # stays on db.session: rolled back, not emptied

__all__ = ["ready"]  # a fixture: imported so that the tests here can use it

ALL_ACCEPTED = {code: (True, "") for code in GATEWAY_ITEMS}


def _failing(enrolment, today=TODAY) -> dict[str, str]:
    return {check.code: check.detail for check in readiness(db.session, enrolment, today) if not check.passed}


def _audit_actions(enrolment) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.enrolment_id == enrolment.id).order_by(AuditEvent.id)
        )
    )


def _submitted(ready):
    sign_all(ready)
    return submit_to_epao(db.session, ready.enrolment, by=ready.tutor, today=TODAY)


# Readiness -------------------------------------------------------------------------------------


def test_a_ready_apprenticeship_passes_every_check_in_order(ready):
    checks = readiness(db.session, ready.enrolment, TODAY)
    assert [c.code for c in checks] == [
        "criteria", "awaiting_review", "english_maths", "time_on_programme", "otj_hours", "progress_review",
    ]  # fmt: skip
    assert checks.ready, checks.failing
    details = {c.code: c.detail for c in checks}
    assert details["criteria"] == "All 49 criteria have accepted evidence or are judged met"
    assert details["otj_hours"] == "200 hours approved of 200 hours planned"
    assert details["progress_review"].endswith("is signed by all three")


def test_criteria_without_accepted_evidence_or_a_met_judgement_are_named(world):
    enrolment = world.enrolment(start=START)
    tutor = world.user(Role.TUTOR, enrolment.provider)
    accept(world.evidence(enrolment, links={"K1": "Shows K1."}), tutor)
    world.evidence(enrolment, links={"K2": "Submitted, not yet accepted."})
    record_judgement(db.session, enrolment, by=tutor, code="S4", level_code="met")
    record_judgement(db.session, enrolment, by=tutor, code="B1", level_code="not_yet")
    detail = _failing(enrolment)["criteria"]
    assert detail.startswith("47 of 49 criteria have no accepted evidence or met judgement: K2, K3, K4,")
    named = detail.split(": ")[1].split(", ")
    assert "K1" not in named and "S4" not in named and {"K2", "B1"} <= set(named)


def test_evidence_awaiting_review_fails_its_check(world, ready):
    world.evidence(ready.enrolment)
    assert _failing(ready.enrolment) == {"awaiting_review": "1 evidence item is waiting for a tutor's review"}


def test_time_on_programme_comes_from_the_funding_rules_of_the_start_or_the_enrolments_override(world, ready):
    young = ready_enrolment(world, start=add_calendar_months(TODAY, -7))  # a start after 1 August 2025
    reached = add_calendar_months(young.enrolment.start_date, 8)
    assert _failing(young.enrolment) == {
        "time_on_programme": "8 months on programme needed (the funding rules for starts from 1 August 2025): "
        f"reached on {reached.day} {reached:%B %Y}, in {(reached - TODAY).days} days"
    }
    young.enrolment.minimum_months_override = 6
    assert _failing(young.enrolment) == {}
    assert _details(young.enrolment)["time_on_programme"].startswith(
        "6 months on programme needed (set for this apprenticeship)"
    )

    # A start in July 2025 follows the rules before: 12 months (and 6 hours a week of training).
    older = ready_enrolment(world, start=date(2025, 7, 1), planned_otj_hours=300)
    assert _details(older.enrolment)["time_on_programme"] == (
        "12 months on programme needed (the funding rules for starts from 1 August 2022): reached on 1 July 2026"
    )


def _details(enrolment) -> dict[str, str]:
    return {check.code: check.detail for check in readiness(db.session, enrolment, TODAY)}


def test_a_standard_with_another_minimum_and_other_declarations(world):
    text = shipped_path("ST0396").read_text(encoding="utf-8")
    # The plan asks for more time than the funding rules: 14 months.
    text = text.replace("  english_and_maths:\n", "  minimum_months_on_programme: 14\n  english_and_maths:\n", 1)
    start, end = text.index("    - signer: employer"), text.index("    - signer: provider")
    version, _ = store_standard(db.session, text[:start] + text[end:])  # no employer declaration
    gateway = ready_enrolment(world, start=add_calendar_months(TODAY, -15))
    gateway.enrolment.standard_version = version
    db.session.flush()
    assert readiness(db.session, gateway.enrolment, TODAY).ready
    assert _details(gateway.enrolment)["time_on_programme"].startswith(
        "14 months on programme needed (the assessment plan of ST0396): reached on"
    )
    states = declaration_status(db.session, gateway.enrolment)
    assert [s.signer for s in states] == [Signer.APPRENTICE, Signer.PROVIDER]
    with pytest.raises(DomainError, match="asks for no declaration from the employer"):
        sign_declaration(db.session, gateway.enrolment, by=gateway.mentor, today=TODAY)


def test_otj_hours_must_reach_the_planned_total(ready):
    ready.enrolment.planned_otj_hours = 205
    approved_hours(ready.enrolment, "3", OtjStatus.LOGGED)
    assert _failing(ready.enrolment) == {
        "otj_hours": "200 hours approved of 205 hours planned: 5 hours to go (3 hours logged and not yet approved)"
    }
    approved_hours(ready.enrolment, "5")
    assert _failing(ready.enrolment) == {}


def test_the_latest_progress_review_must_be_signed_by_all_three(world, ready):
    later = add_calendar_months(START, 12)
    review(ready.enrolment, ready.tutor, later, {Signer.APPRENTICE: ready.apprentice})
    assert _failing(ready.enrolment) == {
        "progress_review": f"The review of {later.day} {later:%B %Y} still needs the signature of the employer "
        "and the training provider"
    }
    bare = world.enrolment(start=START)
    assert _failing(bare)["progress_review"] == "No progress review has been recorded"


def _certificates(world, gateway):
    """English and maths certificates, submitted for review."""
    item = world.evidence(gateway.enrolment, title="Level 2 English and maths certificates", submitted=False)
    item.kind = EvidenceKind.CERTIFICATE
    submit(item, by=gateway.apprentice)
    return item


@pytest.mark.parametrize("route", ["achieved", "ehc_plan", "bsl"])
def test_achieved_english_and_maths_and_the_standards_alternatives_need_an_accepted_certificate(world, route):
    gateway = ready_enrolment(world, english_maths_route=route)
    detail = _failing(gateway.enrolment)["english_maths"]
    assert "no accepted certificate is in the portfolio" in detail
    if route == "ehc_plan":
        assert detail.startswith("Entry Level 3 in English and maths")  # the requirement, from the YAML
    certificates = _certificates(world, gateway)
    assert "english_maths" in _failing(gateway.enrolment)  # submitted, not yet accepted
    accept(certificates, gateway.tutor)
    assert _failing(gateway.enrolment) == {}


def test_english_and_maths_not_required_needs_the_decision_recorded_and_an_adult(world):
    gateway = ready_enrolment(world)
    gateway.enrolment.english_maths_decided_on = None  # as recorded before enrolling asked for it
    assert "the date of that decision is missing" in _failing(gateway.enrolment)["english_maths"]
    gateway.enrolment.english_maths_decided_on = START
    assert _failing(gateway.enrolment) == {}
    gateway.enrolment.age_band = AgeBand.AGED_16_TO_18
    assert _failing(gateway.enrolment) == {
        "english_maths": "Apprentices aged 16 to 18 at the start must achieve English and maths"
    }


def test_english_and_maths_still_required_fails(world):
    gateway = ready_enrolment(world, english_maths_route="required", age_band=AgeBand.AGED_16_TO_18)
    assert _failing(gateway.enrolment)["english_maths"].startswith("Level 2 English and maths still to be achieved")


def test_readiness_takes_the_same_few_queries_whatever_the_amount_of_data(world, ready):
    db.session.expire_all()
    enrolment = ready.enrolment
    with counting_queries() as small:
        readiness(db.session, enrolment, TODAY)
    for n in range(20):
        accept(world.evidence(enrolment, title=f"Workshop {n}", links={"K1": "Again.", "S4": "Again."}), ready.tutor)
        approved_hours(enrolment, "1")
        review(enrolment, ready.tutor, add_calendar_months(START, 1), {})
    db.session.commit()
    db.session.expire_all()
    with counting_queries() as large:
        readiness(db.session, enrolment, TODAY)
    assert small() == large() <= 11  # the portfolio snapshot (four) for the checks' fingerprints
    db.session.expire_all()
    with counting_queries() as page:
        gateway_overview(db.session, enrolment, TODAY)
    assert page() <= 16


# Declarations ----------------------------------------------------------------------------------


def test_each_party_signs_the_standards_statement_with_the_portfolios_fingerprint(ready):
    statements = {d.signer: d.statement for d in ready.enrolment.standard_version.standard.gateway.declarations}
    fingerprint = portfolio_fingerprint(db.session, ready.enrolment)
    sign_all(ready)
    states = declaration_status(db.session, ready.enrolment)
    assert [(s.signer, s.standing) for s in states] == [
        (Signer.APPRENTICE, Standing.CURRENT), (Signer.EMPLOYER, Standing.CURRENT), (Signer.PROVIDER, Standing.CURRENT),
    ]  # fmt: skip
    for state, user in zip(states, ready.signers, strict=True):
        signed = state.declaration
        assert (signed.user, signed.statement, signed.fingerprint, signed.attempt) == (
            user, statements[state.signer], fingerprint, 1
        )  # fmt: skip
    assert _audit_actions(ready.enrolment)[-3:] == ["gateway.declaration_signed"] * 3


def test_only_the_three_parties_sign_each_for_their_own(world, ready):
    outsiders = [
        ready.assessor,
        world.user(Role.ADMIN, ready.enrolment.provider),
        world.user(Role.TUTOR, world.provider()),
        world.user(Role.EMPLOYER, world.employer()),
    ]
    for user in outsiders:
        with pytest.raises(DomainError, match="You cannot sign a gateway declaration for this apprenticeship"):
            sign_declaration(db.session, ready.enrolment, by=user, today=TODAY)
    with pytest.raises(DomainError, match="You cannot sign for the apprentice: you sign for the employer"):
        sign_declaration(db.session, ready.enrolment, by=ready.mentor, signer=Signer.APPRENTICE, today=TODAY)
    colleague = world.user(Role.EMPLOYER, ready.enrolment.employer)  # anyone of the employer may sign for it
    sign_declaration(db.session, ready.enrolment, by=colleague, signer=Signer.EMPLOYER, today=TODAY)
    assert db.session.scalar(select(GatewayDeclaration.signer)) is Signer.EMPLOYER


def test_nobody_signs_before_every_check_passes(ready):
    ready.enrolment.planned_otj_hours = 400
    with pytest.raises(
        DomainError, match="Every gateway check must pass before anyone signs a declaration. Not yet: Off-the-job"
    ):
        sign_declaration(db.session, ready.enrolment, by=ready.apprentice, today=TODAY)
    assert db.session.scalar(select(GatewayDeclaration.id)) is None


def test_nobody_signs_during_a_break_in_learning(ready):
    change_status(db.session, ready.enrolment, EnrolmentStatus.BREAK_IN_LEARNING, None)
    with pytest.raises(DomainError, match="signed while the apprentice is on programme"):
        sign_declaration(db.session, ready.enrolment, by=ready.apprentice, today=TODAY)


def test_a_current_declaration_is_not_signed_twice(world, ready):
    sign_declaration(db.session, ready.enrolment, by=ready.apprentice, today=TODAY)
    with pytest.raises(DomainError, match="already signed and current"):
        sign_declaration(db.session, ready.enrolment, by=ready.apprentice, today=TODAY)
    # Another person of the party may sign instead: the newest signature is the one that counts.
    sign_declaration(db.session, ready.enrolment, by=ready.mentor, today=TODAY)
    manager = world.user(Role.EMPLOYER, ready.enrolment.employer, name="Line Manager")
    sign_declaration(db.session, ready.enrolment, by=manager, today=TODAY)
    employer = {s.signer: s for s in declaration_status(db.session, ready.enrolment)}[Signer.EMPLOYER]
    assert employer.standing is Standing.CURRENT and employer.declaration.user is manager


def test_a_change_to_the_portfolio_makes_every_declaration_stale_until_signed_again(world, ready):
    sign_all(ready)
    accept(world.evidence(ready.enrolment, title="Evaluation of the summer festival"), ready.tutor)
    states = declaration_status(db.session, ready.enrolment)
    assert {s.standing for s in states} == {Standing.STALE}
    sign_declaration(db.session, ready.enrolment, by=ready.mentor, today=TODAY)  # signing again: the newest counts
    assert [s.standing for s in declaration_status(db.session, ready.enrolment)] == [
        Standing.STALE, Standing.CURRENT, Standing.STALE,
    ]  # fmt: skip
    # A judgement is part of the portfolio too.
    record_judgement(db.session, ready.enrolment, by=ready.tutor, code="K1", level_code="developing")
    assert {s.standing for s in declaration_status(db.session, ready.enrolment)} == {Standing.STALE}


# Submission ------------------------------------------------------------------------------------


def test_the_tutor_submits_and_the_enrolment_moves_to_at_gateway(ready):
    submission = _submitted(ready)
    enrolment = ready.enrolment
    assert (submission.number, submission.epao, submission.submitted_by) == (1, enrolment.epao, ready.tutor)
    assert submission.outcome is GatewayOutcome.PENDING
    assert submission.fingerprint == portfolio_fingerprint(db.session, enrolment)
    assert enrolment.status is EnrolmentStatus.AT_GATEWAY
    last = enrolment.status_changes[-1]
    assert (last.from_status, last.to_status, last.changed_by) == (
        EnrolmentStatus.ON_PROGRAMME, EnrolmentStatus.AT_GATEWAY, ready.tutor,
    )  # fmt: skip
    assert "(attempt 1)" in last.note
    assert "gateway.submitted" in _audit_actions(enrolment)
    with pytest.raises(
        DomainError, match="Only an apprenticeship on programme can be submitted; this one is at gateway to completion"
    ):
        submit_to_epao(db.session, enrolment, by=ready.tutor, today=TODAY)


def test_only_a_tutor_of_the_provider_submits(world, ready):
    sign_all(ready)
    for user in (ready.apprentice, ready.mentor, ready.assessor, world.user(Role.TUTOR, world.provider())):
        with pytest.raises(DomainError, match="Only a tutor of the training provider can submit"):
            submit_to_epao(db.session, ready.enrolment, by=user, today=TODAY)
    assert ready.enrolment.status is EnrolmentStatus.ON_PROGRAMME


def test_submission_needs_an_epao_passing_checks_and_current_declarations(world, ready):
    enrolment = ready.enrolment
    with pytest.raises(DomainError, match="the apprentice's is not signed; the employer's is not signed"):
        submit_to_epao(db.session, enrolment, by=ready.tutor, today=TODAY)
    sign_all(ready)
    late = world.evidence(enrolment, title="A late addition")  # awaits review, and changes the portfolio
    with pytest.raises(DomainError, match="Not yet: No evidence is waiting for review"):
        submit_to_epao(db.session, enrolment, by=ready.tutor, today=TODAY)
    accept(late, ready.tutor)
    with pytest.raises(DomainError) as refused:
        submit_to_epao(db.session, enrolment, by=ready.tutor, today=TODAY)
    assert refused.value.message == (
        "Every declaration must be signed and current before you submit: the apprentice's is stale (the portfolio "
        "changed after it was signed); the employer's is stale (the portfolio changed after it was signed); "
        "the training provider's is stale (the portfolio changed after it was signed)"
    )
    sign_all(ready)
    enrolment.epao = None
    with pytest.raises(DomainError, match=r"No assessment organisation \(EPAO\) is chosen"):
        submit_to_epao(db.session, enrolment, by=ready.tutor, today=TODAY)
    assert db.session.scalar(select(GatewaySubmission.id)) is None


def test_the_submitted_portfolio_is_read_only(world, ready):
    enrolment = ready.enrolment
    slipped_through = world.evidence(enrolment, title="Evaluation report")
    accept(slipped_through, ready.tutor)
    testimony = create_testimony(
        db.session, enrolment=enrolment, author=ready.mentor, today=TODAY,
        testimony=WitnessTestimony("Witness statement", START, "Ran the workshop well.", {"B6": "Teamwork."}),
    )  # fmt: skip
    entry = approved_hours(enrolment, "2", OtjStatus.LOGGED)
    _submitted(ready)
    read_only = "submitted to the assessment organisation, so it cannot change"
    slipped_through.status = EvidenceStatus.SUBMITTED  # as if it awaited review: it cannot be decided now
    with pytest.raises(DomainError, match=read_only):
        start_review(db.session, slipped_through, by=ready.tutor)
    slipped_through.status = EvidenceStatus.ACCEPTED
    with pytest.raises(DomainError, match=read_only):
        record_judgement(db.session, enrolment, by=ready.tutor, code="K1", level_code="met")
    with pytest.raises(DomainError, match=read_only):
        approve_entry(db.session, entry, by=ready.tutor)
    with pytest.raises(DomainError, match=read_only):
        sign_testimony(db.session, testimony, by=ready.mentor, signed_name="M", job_title="Mentor")
    with pytest.raises(DomainError, match="cannot add evidence"):
        _new_item(enrolment)
    assert portfolio_fingerprint(db.session, enrolment) == enrolment_submission(enrolment).fingerprint


def _new_item(enrolment):
    details = EvidenceDetails(title="Late", kind=EvidenceKind.REPORT, activity_date=START, links={"K1": "Late."})
    return create_item(
        db.session, evidence_store(), enrolment=enrolment, author=enrolment.apprentice, details=details,
        uploads=[Upload(io.BytesIO(PDF_BYTES), "late.pdf")], max_bytes=max_upload_bytes(), today=TODAY,
    )  # fmt: skip


def enrolment_submission(enrolment):
    return db.session.scalar(select(GatewaySubmission).where(GatewaySubmission.enrolment_id == enrolment.id))


# The assessor's decision -----------------------------------------------------------------------


def test_the_assessor_signs_off_and_the_apprentice_moves_into_epa(ready):
    submission = _submitted(ready)
    decide_gateway(db.session, submission, by=ready.assessor, decisions=ALL_ACCEPTED, note="  All in order.  ")
    assert submission.outcome is GatewayOutcome.SIGNED_OFF
    assert (submission.decided_by, submission.note) == (ready.assessor, "All in order.")
    assert [d.item for d in submission.item_decisions] == list(GATEWAY_ITEMS)
    assert ready.enrolment.status is EnrolmentStatus.IN_EPA
    assert _audit_actions(ready.enrolment)[-1] == "gateway.signed_off"
    with pytest.raises(DomainError, match="already been decided: signed off"):
        decide_gateway(db.session, submission, by=ready.assessor, decisions=ALL_ACCEPTED)


def test_only_an_assessor_of_the_submissions_epao_decides(world, ready):
    submission = _submitted(ready)
    for user in (world.user(Role.ASSESSOR, world.epao()), ready.tutor, world.user(Role.ADMIN, world.provider())):
        with pytest.raises(DomainError, match="Only an assessor of"):
            decide_gateway(db.session, submission, by=user, decisions=ALL_ACCEPTED)
    assert submission.outcome is GatewayOutcome.PENDING


@pytest.mark.parametrize(
    ("decisions", "message", "field"),
    [
        (ALL_ACCEPTED | {"portfolio_colour": (True, "")}, "Unknown gateway items: portfolio_colour", None),
        ({k: v for k, v in ALL_ACCEPTED.items() if k != "otj_hours"}, "Decide every gateway item: Off-the-job", None),
        (ALL_ACCEPTED | {"english_maths": (False, "  ")}, "Give the reason for referring back “English and maths”",
         "reason_english_maths"),
        (ALL_ACCEPTED | {"criteria": (False, "x" * 2001)}, "The reason must be 2,000 characters or fewer",
         "reason_criteria"),
    ],
)  # fmt: skip
def test_bad_decisions_are_refused_and_change_nothing(ready, decisions, message, field):
    submission = _submitted(ready)
    db.session.commit()
    with pytest.raises(DomainError, match=message) as refused:
        decide_gateway(db.session, submission, by=ready.assessor, decisions=decisions)
    assert refused.value.field == field
    db.session.rollback()
    assert submission.outcome is GatewayOutcome.PENDING and submission.item_decisions == []
    assert ready.enrolment.status is EnrolmentStatus.AT_GATEWAY


def test_a_referral_unlocks_the_portfolio_and_the_next_attempt_needs_fresh_declarations(world, ready):
    first = _submitted(ready)
    referred = ALL_ACCEPTED | {"otj_hours": (False, "The log shows two months without training.")}
    decide_gateway(db.session, first, by=ready.assessor, decisions=referred)
    enrolment = ready.enrolment
    assert first.outcome is GatewayOutcome.REFERRED and enrolment.status is EnrolmentStatus.ON_PROGRAMME
    assert _audit_actions(enrolment)[-1] == "gateway.referred"
    # The portfolio is open again; the old declarations no longer count.
    assert _new_item(enrolment).status.value == "draft"
    assert {s.standing for s in declaration_status(db.session, enrolment)} == {Standing.MISSING}
    with pytest.raises(DomainError, match="Change what was referred before submitting again: Off-the-job"):
        submit_to_epao(db.session, enrolment, by=ready.tutor, today=TODAY)
    approved_hours(enrolment, "6")  # the training the log was missing
    with pytest.raises(DomainError, match="the apprentice's is not signed"):
        submit_to_epao(db.session, enrolment, by=ready.tutor, today=TODAY)

    second = _submitted(ready)
    attempts = db.session.scalars(select(GatewayDeclaration.attempt).order_by(GatewayDeclaration.id)).all()
    assert second.number == 2 and attempts == [1, 1, 1, 2, 2, 2]
    overview = gateway_overview(db.session, enrolment, TODAY)
    assert [s.number for s in overview.submissions] == [2, 1]
    assert overview.pending is second and overview.attempt == 2
    assert overview.accepted_earlier == {code: 1 for code in GATEWAY_ITEMS if code != "otj_hours"}
    decide_gateway(db.session, second, by=ready.assessor, decisions=ALL_ACCEPTED)
    assert enrolment.status is EnrolmentStatus.IN_EPA


def test_a_withdrawn_apprenticeship_is_not_decided(ready):
    submission = _submitted(ready)
    change_status_by_hand(db.session, ready.enrolment, EnrolmentStatus.WITHDRAWN, None, "Left the museum")
    with pytest.raises(DomainError, match="no longer at the gateway to completion"):
        decide_gateway(db.session, submission, by=ready.assessor, decisions=ALL_ACCEPTED)


def test_administrators_do_not_move_apprenticeships_through_the_gateway_by_hand(ready):
    S = EnrolmentStatus
    assert status_changes_by_hand(S.ON_PROGRAMME) == (S.WITHDRAWN,)  # a break has its own form, with its dates
    assert status_changes_by_hand(S.AT_GATEWAY) == (S.WITHDRAWN,)
    assert status_changes_by_hand(S.IN_EPA) == (S.COMPLETED, S.WITHDRAWN)
    with pytest.raises(DomainError, match="Only the gateway to completion moves an apprenticeship into or out of it"):
        change_status_by_hand(db.session, ready.enrolment, S.AT_GATEWAY, None)
    assert ready.enrolment.status is S.ON_PROGRAMME


# Referrals -------------------------------------------------------------------------------------


def _referred(ready, code: str, reason: str = "Not what the standard asks for."):
    """Attempt 1 submitted and `code` referred back with `reason`; back on programme."""
    submission = _submitted(ready)
    decide_gateway(db.session, submission, by=ready.assessor, decisions=ALL_ACCEPTED | {code: (False, reason)})
    return submission


def _new_evidence(world, ready) -> None:
    accept(world.evidence(ready.enrolment, title="A second evaluation", links={"K5": "Feedback cards."}), ready.tutor)


def _more_hours(world, ready) -> None:
    approved_hours(ready.enrolment, "3")


def _new_review(world, ready) -> None:
    review(ready.enrolment, ready.tutor, TODAY, dict(zip(Signer, ready.signers, strict=True)))


def _later_start(world, ready) -> None:
    ready.enrolment.start_date = add_calendar_months(START, -1)


def _certificate(world, ready) -> None:
    enrolment = ready.enrolment
    enrolment.english_maths_route = "achieved"
    item = create_item(
        db.session, evidence_store(), enrolment=enrolment, author=enrolment.apprentice,
        details=EvidenceDetails(title="Level 2 certificates", kind=EvidenceKind.CERTIFICATE, activity_date=START,
                                description="English and maths.", reflection="", links={"K20": "IT skills."}),
        uploads=[Upload(io.BytesIO(PDF_BYTES), "certificates.pdf")], max_bytes=max_upload_bytes(), today=TODAY,
    )  # fmt: skip
    submit(item, by=enrolment.apprentice)
    accept(item, ready.tutor)


def _same_three_sign(world, ready) -> None:
    sign_all(ready)


def _another_employer_signs(world, ready) -> None:
    """After the same three have signed: someone else of the employer signs for it."""
    manager = world.user(Role.EMPLOYER, ready.enrolment.employer, name="Line Manager")
    sign_declaration(db.session, ready.enrolment, by=manager, today=TODAY)


# Each gateway item, a change to what it looks at, and a change to something else.
CHANGES = [
    ("criteria", _new_evidence, _more_hours),
    ("awaiting_review", _new_evidence, _new_review),
    ("english_maths", _certificate, _more_hours),
    ("time_on_programme", _later_start, _new_evidence),
    ("otj_hours", _more_hours, _new_evidence),
    ("progress_review", _new_review, _more_hours),
    ("declarations", _another_employer_signs, _same_three_sign),
]


@pytest.mark.parametrize(("code", "change", "unrelated"), CHANGES, ids=[c[0] for c in CHANGES])
def test_a_referred_item_is_outstanding_until_something_it_looks_at_changes(world, ready, code, change, unrelated):
    _referred(ready, code, "Look again at this.")
    enrolment = ready.enrolment
    unrelated(world, ready)
    referral = referral_outstanding(db.session, enrolment, TODAY)
    assert referral is not None and referral.submission.number == 1
    [item] = referral.items
    assert (item.code, item.reason, item.outstanding) == (code, "Look again at this.", True)
    change(world, ready)
    assert referral_outstanding(db.session, enrolment, TODAY) is None
    shown = gateway_overview(db.session, enrolment, TODAY).referral  # still shown, as answered
    assert shown is not None and shown.items[0].code == code and shown.outstanding == ()


def test_each_decision_keeps_what_its_item_looked_at(ready):
    submission = _submitted(ready)
    checks = {check.code: check.fingerprint for check in readiness(db.session, ready.enrolment, TODAY)}
    decide_gateway(db.session, submission, by=ready.assessor, decisions=ALL_ACCEPTED | {"otj_hours": (False, "Why?")})
    kept = {d.item: d.fingerprint for d in submission.item_decisions}
    assert kept.keys() == set(GATEWAY_ITEMS) and {kept[code] for code in checks} == set(checks.values())
    assert kept["criteria"] == kept["awaiting_review"] == submission.fingerprint  # the portfolio itself
    assert len(kept["declarations"]) == 64 and len(set(kept.values())) == len(GATEWAY_ITEMS) - 1


def test_resubmitting_what_was_referred_unchanged_is_refused_and_writes_nothing(world, ready):
    _referred(ready, "criteria", "K5 is shown only by the plan, not by the workshop itself.")
    enrolment = ready.enrolment
    sign_all(ready)  # attempt 2's declarations, of the same portfolio
    db.session.commit()
    actions = _audit_actions(enrolment)
    with pytest.raises(DomainError) as refused:
        submit_to_epao(db.session, enrolment, by=ready.tutor, today=TODAY)
    assert str(refused.value) == (
        "Change what was referred before submitting again: Every criterion has accepted evidence or is judged met "
        "(“K5 is shown only by the plan, not by the workshop itself.”). Nothing these look at has changed since "
        "attempt 1 was referred back"
    )
    db.session.rollback()
    assert db.session.scalars(select(GatewaySubmission.number)).all() == [1]
    assert _audit_actions(enrolment) == actions and enrolment.status is EnrolmentStatus.ON_PROGRAMME
    _new_evidence(world, ready)
    sign_all(ready)  # the portfolio changed: signed again
    second = submit_to_epao(db.session, enrolment, by=ready.tutor, today=TODAY)
    assert second.number == 2 and enrolment.status is EnrolmentStatus.AT_GATEWAY
    assert referral_outstanding(db.session, enrolment, TODAY) is None
    # The assessor, deciding attempt 2, sees what they referred at attempt 1, now changed.
    referral = gateway_overview(db.session, enrolment, TODAY).referral
    assert referral is not None and referral.submission.number == 1 and referral.outstanding == ()


def test_every_referred_item_must_change_and_the_refusal_names_those_that_have_not(world, ready):
    submission = _submitted(ready)
    referred = {"otj_hours": (False, "Two months without training."), "progress_review": (False, "Too long ago.")}
    decide_gateway(db.session, submission, by=ready.assessor, decisions=ALL_ACCEPTED | referred)
    _more_hours(world, ready)
    sign_all(ready)
    with pytest.raises(DomainError) as refused:
        submit_to_epao(db.session, ready.enrolment, by=ready.tutor, today=TODAY)
    message = str(refused.value)
    assert "Latest progress review signed by all three (“Too long ago.”)" in message and "Off-the-job" not in message
    _new_review(world, ready)
    assert submit_to_epao(db.session, ready.enrolment, by=ready.tutor, today=TODAY).number == 2


def test_referred_declarations_need_another_signer_or_another_portfolio(world, ready):
    _referred(ready, "declarations", "The employer's was signed by someone outside the team.")
    enrolment = ready.enrolment
    with pytest.raises(DomainError, match="Declarations of apprentice, employer and provider"):  # none signed yet
        submit_to_epao(db.session, enrolment, by=ready.tutor, today=TODAY)
    sign_all(ready)  # the same three, the same portfolio
    with pytest.raises(DomainError, match="signed by someone outside the team"):
        submit_to_epao(db.session, enrolment, by=ready.tutor, today=TODAY)
    _another_employer_signs(world, ready)
    assert submit_to_epao(db.session, enrolment, by=ready.tutor, today=TODAY).number == 2


def test_a_referral_decided_before_items_kept_fingerprints_is_compared_by_the_portfolio(world, ready):
    submission = _referred(ready, "otj_hours")
    for decision in submission.item_decisions:
        decision.fingerprint = None
    _more_hours(world, ready)  # not in the portfolio's fingerprint: nothing to tell by
    assert referral_outstanding(db.session, ready.enrolment, TODAY) is not None
    _new_evidence(world, ready)
    assert referral_outstanding(db.session, ready.enrolment, TODAY) is None


def test_no_referral_is_outstanding_before_a_referral_or_after_a_sign_off(ready):
    assert referral_outstanding(db.session, ready.enrolment, TODAY) is None
    submission = _submitted(ready)
    assert referral_outstanding(db.session, ready.enrolment, TODAY) is None  # pending
    decide_gateway(db.session, submission, by=ready.assessor, decisions=ALL_ACCEPTED)
    assert referral_outstanding(db.session, ready.enrolment, TODAY) is None
    assert gateway_overview(db.session, ready.enrolment, TODAY).referral is None


def test_an_outstanding_referral_takes_a_fixed_number_of_queries(world, ready):
    _referred(ready, "criteria")
    db.session.commit()
    db.session.expire_all()
    with counting_queries() as small:
        assert referral_outstanding(db.session, ready.enrolment, TODAY) is not None
    for n in range(10):
        accept(world.evidence(ready.enrolment, title=f"Workshop {n}"), ready.tutor)
        approved_hours(ready.enrolment, "1")
    referred = db.session.scalars(select(GatewayItemDecision).filter_by(item="criteria")).one()
    referred.fingerprint = portfolio_fingerprint(db.session, ready.enrolment)  # as if referred with all that
    db.session.commit()
    db.session.expire_all()
    with counting_queries() as large:
        assert referral_outstanding(db.session, ready.enrolment, TODAY) is not None
    assert small() == large() <= 14


# The to-do list --------------------------------------------------------------------------------


def _to_sign(users) -> list[tuple[int, int]]:
    """(declarations to sign, declarations to sign again) on each user's to-do list."""
    return [(t.declarations_to_sign, t.declarations_out_of_date) for t in (todo_list(db.session, u) for u in users)]


def test_the_to_do_list_asks_each_party_to_sign_then_to_sign_again_and_the_assessor_to_decide(world, ready):
    _submitted(ready_enrolment(world))  # another apprenticeship's attempts do not count here
    enrolment = ready.enrolment
    # Ready before anyone has signed: all three are asked.
    assert _to_sign(ready.signers) == [(1, 0), (1, 0), (1, 0)]
    assert todo_list(db.session, ready.tutor).ready_to_submit == 0
    sign_declaration(db.session, enrolment, by=ready.apprentice, today=TODAY)
    db.session.commit()
    assert _to_sign(ready.signers) == [(0, 0), (1, 0), (1, 0)]
    [pending] = todo_list(db.session, ready.mentor).declarations_by_enrolment
    assert (pending.enrolment_id, pending.apprentice_name) == (enrolment.id, ready.apprentice.name)
    sign_declaration(db.session, enrolment, by=ready.mentor, today=TODAY)
    accept(world.evidence(enrolment, title="Late evaluation"), ready.tutor)
    sign_declaration(db.session, enrolment, by=ready.tutor, today=TODAY)
    db.session.commit()
    # The apprentice's and the employer's declarations are for an older portfolio.
    assert _to_sign(ready.signers) == [(0, 1), (0, 1), (0, 0)]
    [stale] = todo_list(db.session, ready.apprentice).out_of_date_by_enrolment
    assert stale.enrolment_id == enrolment.id
    sign_declaration(db.session, enrolment, by=ready.apprentice, today=TODAY)
    sign_declaration(db.session, enrolment, by=ready.mentor, today=TODAY)
    db.session.commit()
    tutor_todo = todo_list(db.session, ready.tutor)
    assert tutor_todo.ready_to_submit == 1 and tutor_todo.submit_by_enrolment[0].enrolment_id == enrolment.id
    assert [todo_list(db.session, u).ready_to_submit for u in (ready.apprentice, ready.mentor)] == [0, 0]
    assert todo_list(db.session, ready.assessor).gateways_to_decide == 0
    submission = submit_to_epao(db.session, enrolment, by=ready.tutor, today=TODAY)
    db.session.commit()
    assessor_todo = todo_list(db.session, ready.assessor)
    assert assessor_todo.gateways_to_decide == 1 and assessor_todo.gateways_by_enrolment[0].enrolment_id == enrolment.id
    assert todo_list(db.session, world.user(Role.ASSESSOR, world.epao())).gateways_to_decide == 0
    assert _to_sign(ready.signers) == [(0, 0), (0, 0), (0, 0)]
    assert todo_list(db.session, ready.tutor).ready_to_submit == 0
    decide_gateway(db.session, submission, by=ready.assessor, decisions=ALL_ACCEPTED)
    assert todo_list(db.session, ready.assessor).gateways_to_decide == 0


def test_a_portfolio_that_is_not_ready_has_no_declaration_to_sign_but_says_when_one_is_out_of_date(world, ready):
    review(ready.enrolment, ready.tutor, TODAY, {})  # a newer review, unsigned: not ready
    db.session.commit()
    assert _to_sign(ready.signers) == [(0, 0), (0, 0), (0, 0)]

    other = ready_enrolment(world)
    sign_declaration(db.session, other.enrolment, by=other.apprentice, today=TODAY)
    world.evidence(other.enrolment, title="Late evaluation")  # awaiting review: changed, and not ready
    db.session.commit()
    assert _to_sign(other.signers) == [(0, 1), (0, 0), (0, 0)]


def test_the_to_do_list_takes_a_fixed_number_of_queries(world, ready):
    def queries() -> tuple[int, tuple[int, int, int]]:
        with counting_queries() as count:
            todo = todo_list(db.session, ready.tutor)
        return count(), (todo.declarations_to_sign, todo.declarations_out_of_date, todo.ready_to_submit)

    def more(n: int) -> None:
        for _ in range(n):
            other = ready_enrolment(world, tutor=ready.tutor)
            sign_declaration(db.session, other.enrolment, by=other.apprentice, today=TODAY)  # the tutor to sign
            stale = ready_enrolment(world, tutor=ready.tutor)
            sign_declaration(db.session, stale.enrolment, by=stale.tutor, today=TODAY)
            accept(world.evidence(stale.enrolment, title="Late evaluation"), ready.tutor)  # to sign again
            done = ready_enrolment(world, tutor=ready.tutor)
            sign_all(done)  # ready to submit
        db.session.commit()

    more(1)
    few, few_todo = queries()
    more(2)
    many, many_todo = queries()
    # The `ready` fixture's own apprenticeship waits for everyone's signature, the tutor's too.
    assert few_todo == (2, 1, 1) and many_todo == (4, 3, 3)
    assert few == many


@pytest.mark.one_transaction(enabled=False)  # a second session plays the other request
def test_a_change_read_before_the_submission_is_checked_again_after_it(ready):
    """The apprentice's request read the item with its apprenticeship on programme; the gateway was
    submitted before the withdrawal came to be written: it is refused on the status as it now is,
    and the portfolio still matches the fingerprint the submission recorded."""
    sign_all(ready)
    db.session.commit()
    item = db.session.scalars(select(EvidenceItem).filter_by(enrolment_id=ready.enrolment.id)).one()
    assert item.enrolment.status is EnrolmentStatus.ON_PROGRAMME  # read, as the request had
    with Session(db.engine) as tutors_request:
        enrolment = tutors_request.get(Enrolment, ready.enrolment.id)
        recorded = submit_to_epao(tutors_request, enrolment, by=tutors_request.get(User, ready.tutor.id)).fingerprint
        tutors_request.commit()
    with pytest.raises(DomainError, match="cannot withdraw"):
        withdraw(item, by=ready.apprentice, reason="Uploaded to the wrong apprenticeship.")
    db.session.rollback()
    assert portfolio_fingerprint(db.session, ready.enrolment) == recorded
