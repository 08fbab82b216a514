"""Evidence review, comments, judgements and witness testimony: the domain functions, called directly."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portfolio.core.domain import DomainError
from portfolio.core.storage import evidence_store
from portfolio.enrolments.domain import change_status
from portfolio.evidence.items import (
    EvidenceDetails,
    criterion_statuses,
    delete_draft,
    may_change,
    submit,
    update_item,
    withdraw,
)
from portfolio.extensions import db
from portfolio.models import EnrolmentStatus, EvidenceItem, EvidenceKind, EvidenceStatus, Role, User, WitnessSignature
from portfolio.review.domain import (
    Decision,
    WitnessTestimony,
    add_comment,
    awaiting_review_count,
    comments_on,
    create_testimony,
    current_judgements,
    decide,
    judgement_history,
    latest_decision,
    record_judgement,
    referred_count,
    sign_testimony,
    start_review,
    update_testimony,
)
from portfolio.review.queue import QueueFilters, review_queue
from standard import Status

from ..conftest import counting_queries

pytestmark = pytest.mark.one_transaction  # stays on db.session: rolled back, not emptied


@pytest.fixture
def museum(two_employers):
    return two_employers["museum_enrolment"]


@pytest.fixture
def tutor(two_employers):
    return two_employers["tutor"]


@pytest.fixture
def second_tutor(world, two_employers):
    return world.user(Role.TUTOR, two_employers["provider"], name="Tom Whitlock")


def _refer(item, tutor, feedback="Add the risk assessment you wrote."):
    start_review(db.session, item, by=tutor)
    decide(db.session, item, by=tutor, decision=Decision.REFER, feedback=feedback)


# Review ---------------------------------------------------------------------------------------


def test_start_review_records_the_reviewer_and_time(world, museum, tutor):
    item = world.evidence(museum)
    start_review(db.session, item, by=tutor)
    assert item.reviewer == tutor and item.review_started_at is not None
    start_review(db.session, item, by=tutor)  # starting again is harmless
    assert item.reviewer == tutor


def test_a_second_tutor_cannot_start_or_decide_while_the_first_reviews(world, museum, tutor, second_tutor):
    item = world.evidence(museum)
    start_review(db.session, item, by=tutor)
    with pytest.raises(DomainError, match=f"{tutor.name} is reviewing this evidence"):
        start_review(db.session, item, by=second_tutor)
    with pytest.raises(DomainError, match=f"{tutor.name} is reviewing this evidence"):
        decide(db.session, item, by=second_tutor, decision=Decision.ACCEPT)
    assert item.status is EvidenceStatus.SUBMITTED and item.reviewer == tutor


def test_a_second_tutor_may_take_the_review_over_explicitly(world, museum, tutor, second_tutor):
    item = world.evidence(museum)
    start_review(db.session, item, by=tutor)
    start_review(db.session, item, by=second_tutor, take_over=True)
    assert item.reviewer == second_tutor
    with pytest.raises(DomainError, match=f"{second_tutor.name} is reviewing"):
        decide(db.session, item, by=tutor, decision=Decision.ACCEPT)
    decide(db.session, item, by=second_tutor, decision=Decision.ACCEPT)
    assert item.status is EvidenceStatus.ACCEPTED


def test_deciding_needs_a_started_review(world, museum, tutor):
    item = world.evidence(museum)
    with pytest.raises(DomainError, match="Start the review"):
        decide(db.session, item, by=tutor, decision=Decision.ACCEPT)


def test_refer_back_needs_feedback_and_records_it(world, museum, tutor):
    item = world.evidence(museum)
    start_review(db.session, item, by=tutor)
    for feedback in ("", "   \n ", "\x00"):
        with pytest.raises(DomainError, match="Give feedback") as refused:
            decide(db.session, item, by=tutor, decision=Decision.REFER, feedback=feedback)
        assert refused.value.field == "feedback"
    with pytest.raises(DomainError, match="2,000 characters or fewer"):
        decide(db.session, item, by=tutor, decision=Decision.REFER, feedback="x" * 10_000)
    assert item.status is EvidenceStatus.SUBMITTED and item.reviewer == tutor
    decide(db.session, item, by=tutor, decision=Decision.REFER, feedback="  Say which risks you found.\n")
    assert item.status is EvidenceStatus.REFERRED
    # The referral keeps its reviewer, for the resubmission, but nobody is reviewing it now.
    assert item.reviewer == tutor and item.review_started_at is None
    change = item.history[-1]
    assert (change.from_status, change.to_status) == (EvidenceStatus.SUBMITTED, EvidenceStatus.REFERRED)
    assert change.changed_by == tutor and change.note == "Say which risks you found."
    assert latest_decision(item) is change


def test_the_apprentice_fixes_and_resubmits_and_the_tutor_accepts(world, museum, tutor):
    item = world.evidence(museum)
    _refer(item, tutor)
    details = EvidenceDetails(
        title="Community workshop plan, with risk assessment",
        kind=EvidenceKind.EVENT_PLAN,
        activity_date=museum.start_date,
        links={"K1": "Audience research.", "S4": "The risk assessment is now attached."},
    )
    update_item(db.session, evidence_store(), item, by=museum.apprentice, details=details, max_bytes=1_000)
    submit(item, by=museum.apprentice)
    assert item.status is EvidenceStatus.SUBMITTED
    start_review(db.session, item, by=tutor)
    decide(db.session, item, by=tutor, decision=Decision.ACCEPT)  # feedback optional when accepting
    assert item.status is EvidenceStatus.ACCEPTED and item.history[-1].note == ""
    with pytest.raises(DomainError, match="not waiting for review"):
        start_review(db.session, item, by=tutor)
    assert [h.to_status.value for h in item.history] == ["draft", "submitted", "referred", "submitted", "accepted"]


def test_nobody_decides_their_own_evidence(world, museum, tutor):
    item = world.evidence(museum)
    item.created_by = tutor  # a tutor never writes evidence, but the rule does not rely on that
    db.session.flush()
    with pytest.raises(DomainError, match="evidence you wrote yourself"):
        start_review(db.session, item, by=tutor)
    with pytest.raises(DomainError, match="evidence you wrote yourself"):
        decide(db.session, item, by=tutor, decision=Decision.ACCEPT)
    assert item.status is EvidenceStatus.SUBMITTED


@pytest.mark.parametrize("who", ["apprentice", "museum_mentor", "tutor of another provider", "assessor"])
def test_only_tutors_of_the_provider_review(world, museum, two_employers, who):
    users = {
        "apprentice": museum.apprentice,
        "museum_mentor": two_employers["museum_mentor"],
        "tutor of another provider": world.user(Role.TUTOR, world.provider()),
        "assessor": world.user(Role.ASSESSOR, two_employers["epao"]),
    }
    item = world.evidence(museum)
    with pytest.raises(DomainError, match="cannot review"):
        start_review(db.session, item, by=users[who])
    item.reviewer = users[who]  # even if recorded somehow, the rule is checked again on deciding
    with pytest.raises(DomainError, match="cannot review"):
        decide(db.session, item, by=users[who], decision=Decision.ACCEPT)
    assert item.status is EvidenceStatus.SUBMITTED


def test_drafts_and_withdrawn_evidence_are_not_reviewed(world, museum, tutor):
    draft = world.evidence(museum, submitted=False)
    with pytest.raises(DomainError, match="draft is not waiting"):
        start_review(db.session, draft, by=tutor)
    item = world.evidence(museum)
    start_review(db.session, item, by=tutor)
    withdraw(item, by=museum.apprentice, reason="Wrong apprentice")
    with pytest.raises(DomainError, match="withdrawn is not waiting"):
        decide(db.session, item, by=tutor, decision=Decision.ACCEPT)


# Queue and to-do counts -------------------------------------------------------------------------


def test_queue_lists_submitted_evidence_of_the_provider_oldest_first(world, two_employers, tutor):
    museum, theatre = two_employers["museum_enrolment"], two_employers["theatre_enrolment"]
    first = world.evidence(museum, title="First")
    second = world.evidence(theatre, title="Second")
    third = world.evidence(museum, title="Third")
    world.evidence(museum, title="Draft", submitted=False)
    world.evidence(world.enrolment(), title="Another provider's")
    gone = world.enrolment(provider=two_employers["provider"])
    world.evidence(gone, title="Withdrawn apprenticeship's")
    change_status(db.session, gone, EnrolmentStatus.WITHDRAWN, None)
    first.submitted_at, second.submitted_at = second.submitted_at, first.submitted_at  # second waited longest
    db.session.flush()
    titles = [i.title for i in db.session.scalars(review_queue(tutor))]
    assert titles == ["Second", "First", "Third"]
    by_employer = db.session.scalars(review_queue(tutor, QueueFilters(employer=two_employers["theatre"].id)))
    assert [i.title for i in by_employer] == ["Second"]
    by_apprentice = db.session.scalars(review_queue(tutor, QueueFilters(apprentice=museum.apprentice.id)))
    assert [i.title for i in by_apprentice] == ["First", "Third"]
    assert list(db.session.scalars(review_queue(two_employers["museum_mentor"]))) == []
    assert third.status is EvidenceStatus.SUBMITTED


def test_to_do_counts_take_one_query_each(world, two_employers, tutor):
    museum = two_employers["museum_enrolment"]
    items = [world.evidence(museum, title=f"Item {n}") for n in range(4)]
    world.evidence(two_employers["theatre_enrolment"])
    world.evidence(world.enrolment())  # another provider's
    _refer(items[0], tutor)
    _refer(items[1], tutor)
    db.session.commit()
    assert tutor.is_active and museum.apprentice.is_active  # loaded, as the signed-in user is in a request
    with counting_queries() as count:
        assert awaiting_review_count(db.session, tutor) == 3
    assert count() == 1
    with counting_queries() as count:
        assert referred_count(db.session, museum.apprentice) == 2
    assert count() == 1
    assert referred_count(db.session, museum.apprentice, enrolment=museum) == 2
    assert referred_count(db.session, two_employers["theatre_enrolment"].apprentice) == 0
    assert awaiting_review_count(db.session, museum.apprentice) == 0


# Comments --------------------------------------------------------------------------------------


def test_apprentice_employer_and_tutor_comment_oldest_first(world, museum, two_employers, tutor):
    item = world.evidence(museum)
    add_comment(db.session, item, by=museum.apprentice, body="Is the budget attached?")
    add_comment(db.session, item, by=two_employers["museum_mentor"], body="I can add a testimony.")
    add_comment(db.session, item, by=tutor, body="  Line one\r\nline two\x00  ")
    thread = comments_on(db.session, item)
    assert [c.author for c in thread] == [museum.apprentice, two_employers["museum_mentor"], tutor]
    assert thread[-1].body == "Line one\nline two"


@pytest.mark.parametrize("body", ["", "   ", "x" * 10_000])
def test_empty_and_overlong_comments_are_refused(world, museum, body):
    item = world.evidence(museum)
    with pytest.raises(DomainError) as refused:
        add_comment(db.session, item, by=museum.apprentice, body=body)
    assert refused.value.field == "comment"
    assert comments_on(db.session, item) == []


def test_assessors_admins_and_outsiders_only_read(world, museum, two_employers):
    item = world.evidence(museum)
    change_status(db.session, museum, EnrolmentStatus.AT_GATEWAY, None)
    readers = [
        world.user(Role.ASSESSOR, two_employers["epao"]),
        world.user(Role.ADMIN, two_employers["provider"]),
        two_employers["theatre_mentor"],
        world.user(Role.TUTOR, world.provider()),
    ]
    for user in readers:
        with pytest.raises(DomainError, match="cannot comment"):
            add_comment(db.session, item, by=user, body="Looks good")


# Judgements ------------------------------------------------------------------------------------


def test_judgements_are_append_only_and_the_newest_is_current(world, museum, tutor, second_tutor):
    record_judgement(db.session, museum, by=tutor, code="K1", level_code="developing", note="Partly shown.")
    record_judgement(db.session, museum, by=second_tutor, code="K1", level_code="met", note="Now shown.")
    record_judgement(db.session, museum, by=tutor, code="S4", level_code="not_yet")
    current = current_judgements(db.session, museum)
    assert set(current) == {"K1", "S4"}
    assert (current["K1"].level_code, current["K1"].met, current["K1"].judged_by) == ("met", True, second_tutor)
    assert current["S4"].met is False
    history = judgement_history(db.session, museum, "K1")
    assert [j.level_code for j in history] == ["met", "developing"]


def test_coverage_counts_a_met_judgement_as_met(world, museum, tutor):
    item = world.evidence(museum, links={"K1": "a", "S4": "b"})
    start_review(db.session, item, by=tutor)
    decide(db.session, item, by=tutor, decision=Decision.ACCEPT)
    assert criterion_statuses(db.session, museum) == {"K1": Status.ACCEPTED, "S4": Status.ACCEPTED}
    record_judgement(db.session, museum, by=tutor, code="K1", level_code="met")
    record_judgement(db.session, museum, by=tutor, code="S4", level_code="developing")
    record_judgement(db.session, museum, by=tutor, code="B9", level_code="met")  # met from observation alone
    with counting_queries() as count:
        statuses = criterion_statuses(db.session, museum)
    assert statuses == {"K1": Status.MET, "S4": Status.ACCEPTED, "B9": Status.MET}
    assert count() == 2
    record_judgement(db.session, museum, by=tutor, code="K1", level_code="not_yet", note="Judged too soon.")
    assert criterion_statuses(db.session, museum)["K1"] is Status.ACCEPTED


def test_a_level_not_in_the_scale_or_a_code_not_in_the_standard_is_refused(world, museum, tutor):
    with pytest.raises(DomainError, match="judgement scale") as refused:
        record_judgement(db.session, museum, by=tutor, code="K1", level_code="excellent")
    assert refused.value.field == "level"
    with pytest.raises(DomainError, match="K99 is not a criterion of ST0396"):
        record_judgement(db.session, museum, by=tutor, code="K99", level_code="met")
    with pytest.raises(DomainError, match="2,000 characters"):
        record_judgement(db.session, museum, by=tutor, code="K1", level_code="met", note="n" * 10_000)
    assert current_judgements(db.session, museum) == {}


def test_only_tutors_of_the_provider_judge(world, museum, two_employers):
    for user in (
        museum.apprentice,
        two_employers["museum_mentor"],
        world.user(Role.ASSESSOR, two_employers["epao"]),
        world.user(Role.ADMIN, two_employers["provider"]),
        world.user(Role.TUTOR, world.provider()),
    ):
        with pytest.raises(DomainError, match="cannot judge"):
            record_judgement(db.session, museum, by=user, code="K1", level_code="met")
    assert current_judgements(db.session, museum) == {}


# Witness testimony -----------------------------------------------------------------------------


def _testimony(**overrides) -> WitnessTestimony:
    values = dict(
        title="Witness testimony: the lantern parade",
        activity_date=date(2025, 10, 4),
        text="I watched Amira brief twenty stewards.\nShe adapted the route for wheelchair users.",
        links={"S5": "She briefed the stewards clearly.", "B4": "She made the route accessible."},
    )
    values.update(overrides)
    return WitnessTestimony(**values)


SIGNATURE = {"signed_name": "Helen Marsh", "job_title": "Learning manager"}


def _write(museum, author, **overrides):
    return create_testimony(
        db.session, enrolment=museum, author=author, testimony=_testimony(**overrides), today=date(2026, 1, 1)
    )


def test_the_employer_writes_changes_and_signs_a_testimony(world, museum, two_employers):
    mentor = two_employers["museum_mentor"]
    item = _write(museum, mentor)
    assert item.kind is EvidenceKind.WITNESS_TESTIMONY and item.status is EvidenceStatus.DRAFT
    assert item.created_by == mentor and item.codes == ["S5", "B4"]
    assert may_change(mentor, item) and not may_change(museum.apprentice, item)
    update_testimony(
        db.session, item, by=mentor, testimony=_testimony(title="The lantern parade"), today=date(2026, 1, 1)
    )
    assert item.title == "The lantern parade"
    with pytest.raises(DomainError, match="signs it"):
        submit(item, by=mentor)  # a testimony goes for review by signing, not by the apprentice's button
    signature = sign_testimony(db.session, item, by=mentor, signed_name=" Helen  Osei ", job_title="Learning manager")
    assert (signature.signed_by, signature.signed_name, signature.job_title) == (
        mentor,
        "Helen Osei",
        "Learning manager",
    )
    assert signature.signed_at is not None
    assert item.status is EvidenceStatus.SUBMITTED and item.submitted_at is not None
    assert item.history[-1].changed_by == mentor
    # Signed: nobody changes it, signs it again or withdraws it.
    assert not may_change(mentor, item) and not may_change(museum.apprentice, item)
    with pytest.raises(DomainError, match="testimony has been signed, so it can no longer be changed"):
        update_testimony(db.session, item, by=mentor, testimony=_testimony(), today=date(2026, 1, 1))
    with pytest.raises(DomainError, match="testimony has been signed, so it can no longer be changed"):
        sign_testimony(db.session, item, by=mentor, signed_name="Helen Osei", job_title="Manager")
    with pytest.raises(DomainError, match="cannot withdraw"):
        withdraw(item, by=museum.apprentice, reason="I do not like it")


def test_only_people_of_the_apprentices_employer_give_testimony(world, museum, two_employers, tutor):
    for user in (museum.apprentice, tutor, two_employers["theatre_mentor"]):
        with pytest.raises(DomainError, match="cannot give witness testimony"):
            _write(museum, user)
    change_status(db.session, museum, EnrolmentStatus.AT_GATEWAY, None)
    with pytest.raises(DomainError, match="cannot give witness testimony"):
        _write(museum, two_employers["museum_mentor"])


def test_the_witness_may_delete_their_unsigned_draft(museum, two_employers):
    item = _write(museum, two_employers["museum_mentor"])
    with pytest.raises(DomainError, match="Only drafts can be deleted"):
        delete_draft(db.session, item, by=museum.apprentice)
    delete_draft(db.session, item, by=two_employers["museum_mentor"])
    assert db.session.get(EvidenceItem, item.id) is None


def test_another_employer_user_cannot_change_or_sign_it(world, museum, two_employers):
    item = _write(museum, two_employers["museum_mentor"])
    colleague = world.user(Role.EMPLOYER, two_employers["museum"])
    with pytest.raises(DomainError, match="cannot change this testimony"):
        update_testimony(db.session, item, by=colleague, testimony=_testimony())
    with pytest.raises(DomainError, match="cannot change this testimony"):
        sign_testimony(db.session, item, by=colleague, signed_name="Someone Else", job_title="Director")
    with pytest.raises(DomainError, match="cannot change this testimony"):
        sign_testimony(db.session, item, by=museum.apprentice, signed_name="Helen Osei", job_title="Manager")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"text": "  "}, "text", "Write your testimony"),
        ({"text": "t" * 10_001}, "text", "10,000 characters"),
        ({"title": ""}, "title", "Enter a title"),
        ({"activity_date": date(2026, 6, 1)}, "activity_date", "today or in the past"),
        ({"activity_date": date(2020, 1, 1)}, "activity_date", "on or after the start"),
        ({"links": {"K99": "x"}}, "links", "K99 is not a criterion"),
        ({"links": {"K1": "  "}}, "justification_K1", "Explain how this evidence shows K1"),
    ],
)
def test_bad_testimony_is_refused(museum, two_employers, overrides, field, message):
    with pytest.raises(DomainError, match=message) as refused:
        _write(museum, two_employers["museum_mentor"], **overrides)
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("name", "title", "message"),
    [("", "Manager", "Enter your full name"), ("Helen Osei", " \x00 ", "Enter your job title"),
     ("n" * 201, "Manager", "200 characters"), ("Helen Osei", "t" * 201, "200 characters")],
)  # fmt: skip
def test_a_signature_needs_a_name_and_a_job_title(museum, two_employers, name, title, message):
    item = _write(museum, two_employers["museum_mentor"])
    with pytest.raises(DomainError, match=message):
        sign_testimony(db.session, item, by=two_employers["museum_mentor"], signed_name=name, job_title=title)
    assert item.status is EvidenceStatus.DRAFT


def test_a_testimony_is_signed_only_once_it_shows_a_criterion(museum, two_employers):
    item = _write(museum, two_employers["museum_mentor"], links={})
    with pytest.raises(DomainError, match="at least one criterion"):
        sign_testimony(db.session, item, by=two_employers["museum_mentor"], signed_name="Helen", job_title="Manager")


def test_the_tutor_reviews_a_signed_testimony(museum, two_employers, tutor):
    mentor = two_employers["museum_mentor"]
    item = _write(museum, mentor)
    sign_testimony(db.session, item, by=mentor, signed_name="Helen Osei", job_title="Learning manager")
    assert [i.id for i in db.session.scalars(review_queue(tutor))] == [item.id]
    start_review(db.session, item, by=tutor)
    decide(db.session, item, by=tutor, decision=Decision.ACCEPT, feedback="A clear account.")
    assert criterion_statuses(db.session, museum) == {"S5": Status.ACCEPTED, "B4": Status.ACCEPTED}
    assert referred_count(db.session, museum.apprentice) == 0


@pytest.mark.one_transaction(enabled=False)  # a second session plays the other request
def test_a_testimony_signed_meanwhile_by_another_request_is_not_signed_again(museum, two_employers):
    """The second request read the testimony unsigned; signing it again is refused with a message
    (it was a unique-key error: a 500)."""
    mentor = two_employers["museum_mentor"]
    item = _write(museum, mentor)
    db.session.commit()
    assert item.status is EvidenceStatus.DRAFT  # read, as the second request had
    with Session(db.engine) as first:
        sign_testimony(first, first.get(EvidenceItem, item.id), by=first.get(User, mentor.id), **SIGNATURE)
        first.commit()
    with pytest.raises(DomainError, match="testimony has been signed"):
        sign_testimony(db.session, item, by=mentor, **SIGNATURE)
    db.session.rollback()
    assert db.session.scalar(select(func.count(WitnessSignature.id))) == 1
