"""Each event that asks someone to act, or tells them an outcome, tells the right people: in the
app, by email when that is how they hear of it by default, and nobody of another organisation."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from portfolio.evidence.items import submit
from portfolio.exports.requests import ask_for_export
from portfolio.extensions import db
from portfolio.gateway.domain import GATEWAY_ITEMS, decide_gateway, sign_declaration, submit_to_epao
from portfolio.models import (
    EvidenceItem,
    ExportFormat,
    GatewaySubmission,
    MailStatus,
    Notification,
    OtjStatus,
    OutboxMessage,
    Role,
    User,
)
from portfolio.models.notifications import Delivery
from portfolio.notifications.kinds import Kind
from portfolio.otj.domain import approve_entries, approve_entry, query_entry
from portfolio.progress_reviews.domain import ReviewDetails, create_review, sign_review
from portfolio.review.domain import (
    Decision,
    WitnessTestimony,
    add_comment,
    create_testimony,
    decide,
    record_judgement,
    sign_testimony,
    start_review,
)
from standard import Signer
from tests.helpers import run_jobs
from tests.smtp_server import body_text

from ..gateway_world import TODAY, Gateway, accept, approved_hours, ready_enrolment, sign_all
from ..progress_world import signed_in_as


@pytest.fixture
def app_config(mail_config):
    return mail_config


@dataclass
class Scene:
    gateway: Gateway
    outsiders: list[User]  # of another provider, employer and EPAO

    @property
    def enrolment(self):
        return self.gateway.enrolment

    @property
    def apprentice(self) -> User:
        return self.gateway.apprentice

    @property
    def mentor(self) -> User:
        return self.gateway.mentor

    @property
    def tutor(self) -> User:
        return self.gateway.tutor

    @property
    def assessor(self) -> User:
        return self.gateway.assessor


@pytest.fixture
def scene(world) -> Scene:
    """An apprenticeship ready for the gateway, and the people of another one entirely."""
    gateway = ready_enrolment(world)
    provider, employer, epao = world.provider(), world.employer(), world.epao()
    other = world.enrolment(
        provider=provider,
        employer=employer,
        epao=epao,
        tutor=world.user(Role.TUTOR, provider),
        mentor=world.user(Role.EMPLOYER, employer),
    )
    outsiders = [other.apprentice, other.mentor, other.tutor, world.user(Role.ASSESSOR, epao)]
    db.session.commit()
    return Scene(gateway, outsiders)


@dataclass
class Told:
    notifications: list[Notification]
    mail: list

    def of(self, people: list[User]) -> Told:
        """What these people were told."""
        ids, emails = {p.id for p in people}, {p.email for p in people}
        return Told([n for n in self.notifications if n.user_id in ids], [m for m in self.mail if m["To"] in emails])


@pytest.fixture
def told(app, smtp_server, scene):
    """`told()`: commit, run the jobs (the mail goes), and return what was told since the last call."""
    seen = {"notification": 0, "mail": 0}

    def look() -> Told:
        db.session.commit()
        run_jobs(app)
        notifications = db.session.scalars(
            select(Notification).where(Notification.id > seen["notification"]).order_by(Notification.id)
        ).all()
        statuses = dict(
            db.session.execute(
                select(OutboxMessage.status, func.count(OutboxMessage.id)).group_by(OutboxMessage.status)
            ).all()
        )
        assert set(statuses) <= {MailStatus.SENT}, statuses  # every message went
        mail = smtp_server.wait_for(statuses.get(MailStatus.SENT, 0))[seen["mail"] :]
        seen["notification"] = max([n.id for n in notifications], default=seen["notification"])
        seen["mail"] += len(mail)
        # Nobody of another organisation is ever told anything, by any event so far.
        outsiders = {person.id for person in scene.outsiders}
        assert not db.session.scalar(select(func.count(Notification.id)).where(Notification.user_id.in_(outsiders)))
        assert not [m for m in smtp_server.messages if any(p.email in m["To"] for p in scene.outsiders)]
        return Told(list(notifications), mail)

    look()  # what building the scene told is not the tests'
    return look


def check(told: Told, kind: Kind, people: list[User], *, title: str, link: str, body: str = "") -> None:
    """Exactly `people` were told of `kind`, in the app, and by email if that kind is emailed at once."""
    assert sorted(n.user_id for n in told.notifications) == sorted(p.id for p in people)
    assert {(n.kind, n.title, n.link, n.body) for n in told.notifications} <= {(kind.value, title, link, body)}
    emailed = people if kind.about.default is Delivery.EMAIL_NOW else []
    assert sorted(m["To"] for m in told.mail) == sorted(p.email for p in emailed)
    for message in told.mail:
        assert message["Subject"] == kind.about.email_subject
        assert f"https://portfolio.example.test{link.split('#')[0]}" in body_text(message)
        assert title not in body_text(message)  # the details stay behind the sign-in


def opens(client, person: User, link: str) -> None:
    """The link goes to a page the person told can see."""
    signed_in_as(client, person)
    assert client.get(link).status_code == 200


def _item_link(item: EvidenceItem) -> str:
    return f"/enrolments/{item.enrolment_id}/evidence/{item.id}"


# Evidence ----------------------------------------------------------------------------------------


def test_evidence_submitted_and_resubmitted_tells_the_tutor(world, scene, told, client):
    item = world.evidence(scene.enrolment, title="Family workshop plan")
    name = scene.apprentice.name
    check(
        told(),
        Kind.EVIDENCE_SUBMITTED,
        [scene.tutor],
        title=f"Evidence submitted by {name}: Family workshop plan",
        link=_item_link(item),
    )
    start_review(db.session, item, by=scene.tutor)
    decide(db.session, item, by=scene.tutor, decision=Decision.REFER, feedback="Add the risk assessment.")
    told()
    submit(item, by=scene.apprentice)
    check(
        told(),
        Kind.EVIDENCE_SUBMITTED,
        [scene.tutor],
        title=f"Evidence resubmitted by {name}: Family workshop plan",
        link=_item_link(item),
    )
    opens(client, scene.tutor, _item_link(item))


@pytest.mark.parametrize(
    ("decision", "feedback", "outcome"),
    [(Decision.ACCEPT, "", "accepted"), (Decision.REFER, "Add the risk assessment you wrote.", "referred back")],
)
def test_a_decision_on_evidence_tells_the_apprentice_with_the_feedback(
    world, scene, told, client, decision, feedback, outcome
):
    item = world.evidence(scene.enrolment, title="Family workshop plan")
    start_review(db.session, item, by=scene.tutor)
    told()
    decide(db.session, item, by=scene.tutor, decision=decision, feedback=feedback)
    check(
        told(),
        Kind.EVIDENCE_DECIDED,
        [scene.apprentice],
        title=f"Evidence {outcome} by {scene.tutor.name}: Family workshop plan",
        body=feedback,
        link=_item_link(item),
    )
    opens(client, scene.apprentice, _item_link(item))


@pytest.mark.parametrize("author", ["apprentice", "mentor", "tutor"])
def test_a_comment_tells_the_other_parties(world, scene, told, client, author):
    item = world.evidence(scene.enrolment, title="Family workshop plan")
    told()
    by = getattr(scene, author)
    add_comment(db.session, item, by=by, body="Could you add\nthe attendance figures?")
    others = [p for p in (scene.apprentice, scene.mentor, scene.tutor) if p is not by]
    link = f"{_item_link(item)}#comments"
    check(
        told(),
        Kind.COMMENT,
        others,
        title=f"{by.name} commented on Family workshop plan",
        body="Could you add\nthe attendance figures?",
        link=link,
    )
    opens(client, others[0], link)


def test_a_comment_on_a_draft_tells_nobody(world, scene, told):
    item = world.evidence(scene.enrolment, submitted=False)
    add_comment(db.session, item, by=scene.apprentice, body="A note to myself.")
    assert told().notifications == []


def test_a_judgement_tells_the_apprentice(scene, told, client):
    record_judgement(db.session, scene.enrolment, by=scene.tutor, code="K1", level_code="met", note="Seen at the fair.")
    link = f"/enrolments/{scene.enrolment.id}/judgements/K1"
    check(
        told(),
        Kind.JUDGEMENT,
        [scene.apprentice],
        title=f"K1 judged by {scene.tutor.name}: Met",
        body="Seen at the fair.",
        link=link,
    )
    opens(client, scene.apprentice, link)


def test_a_signed_testimony_tells_the_apprentice_and_the_tutor(scene, told, client):
    testimony = WitnessTestimony("The lantern parade", TODAY, "Briefed the stewards clearly.", {"S5": "Briefings."})
    item = create_testimony(db.session, enrolment=scene.enrolment, author=scene.mentor, testimony=testimony)
    assert told().notifications == []  # a draft is the witness's own
    sign_testimony(db.session, item, by=scene.mentor, signed_name=scene.mentor.name, job_title="Venue manager")
    check(
        told(),
        Kind.TESTIMONY_SIGNED,
        [scene.apprentice, scene.tutor],
        title=f"{scene.mentor.name} signed the witness testimony “The lantern parade”",
        body=f"{scene.mentor.name}, Venue manager, signed it.",
        link=_item_link(item),
    )
    opens(client, scene.tutor, _item_link(item))


# Off-the-job training ------------------------------------------------------------------------------


def test_a_queried_entry_tells_the_apprentice_with_the_question(scene, told, client):
    entry = approved_hours(scene.enrolment, "2.5", OtjStatus.LOGGED)
    told()
    query_entry(db.session, entry, by=scene.tutor, note="Which session was this?")
    link = f"/enrolments/{scene.enrolment.id}/otj/{entry.id}"
    day = scene.enrolment.start_date
    check(
        told(),
        Kind.OTJ_QUERIED,
        [scene.apprentice],
        body="Which session was this?",
        link=link,
        title=f"{scene.tutor.name} queried your off-the-job training: 2.5 hours on {day.day} {day:%B %Y}",
    )
    opens(client, scene.apprentice, link)


def test_approvals_tell_the_apprentice_once_per_action(scene, told, client):
    entries = [approved_hours(scene.enrolment, hours, OtjStatus.LOGGED) for hours in ("1", "2", "3.5", "4")]
    told()
    approve_entry(db.session, entries[0], by=scene.tutor)
    day = scene.enrolment.start_date
    check(
        told(),
        Kind.OTJ_APPROVED,
        [scene.apprentice],
        title=f"Off-the-job training approved: 1 hour on {day.day} {day:%B %Y}",
        link=f"/enrolments/{scene.enrolment.id}/otj/{entries[0].id}",
    )
    assert approve_entries(db.session, scene.enrolment, [e.id for e in entries[1:]], by=scene.tutor) == 3
    link = f"/enrolments/{scene.enrolment.id}/otj"
    check(
        told(),
        Kind.OTJ_APPROVED,
        [scene.apprentice],
        title="3 off-the-job training entries approved: 9.5 hours in all",
        link=link,
    )
    opens(client, scene.apprentice, link)


# Progress reviews ----------------------------------------------------------------------------------


def test_the_parties_whose_signature_a_review_awaits_are_told_once(scene, told, client):
    details = ReviewDetails(
        review_date=TODAY, attendees="All three", progress="On track.", actions="Plan the EPA.",
        otj_and_slippage="On pace.", training_plan_changes="None.", concerns_and_changes="None.",
        actions_since_last="Done.", late_reason="Moved for the leave.",
    )  # fmt: skip
    review = create_review(db.session, enrolment=scene.enrolment, author=scene.tutor, details=details, today=TODAY)
    link = f"/enrolments/{scene.enrolment.id}/reviews/{review.id}"
    title = f"Sign the progress review of {TODAY.day} {TODAY:%B %Y} for {scene.apprentice.name}"
    # The tutor who recorded it is told once another has signed.
    check(told(), Kind.SIGNATURE_AWAITED, [scene.apprentice, scene.mentor], title=title, link=link)
    sign_review(db.session, review, by=scene.apprentice, signer=Signer.APPRENTICE)
    check(told(), Kind.SIGNATURE_AWAITED, [scene.tutor], title=title, link=link)
    sign_review(db.session, review, by=scene.mentor, signer=Signer.EMPLOYER)
    assert told().notifications == []  # the tutor was told already
    sign_review(db.session, review, by=scene.tutor, signer=Signer.PROVIDER)
    assert told().notifications == []
    opens(client, scene.mentor, link)


# The gateway ---------------------------------------------------------------------------------------


def test_a_declaration_asks_the_others_once_per_portfolio_and_the_last_tells_the_tutor_it_is_ready(
    world, scene, told, client
):
    enrolment, link = scene.enrolment, f"/enrolments/{scene.enrolment.id}/gateway"
    asked = dict(link=link, title=f"Sign the gateway declaration for {scene.apprentice.name}'s apprenticeship")
    sign_declaration(db.session, enrolment, by=scene.apprentice, today=TODAY)
    check(told(), Kind.SIGNATURE_AWAITED, [scene.mentor, scene.tutor], **asked)
    sign_declaration(db.session, enrolment, by=scene.tutor, today=TODAY)
    assert told().notifications == []  # the mentor was asked already
    accept(world.evidence(enrolment, title="Lantern parade"), scene.tutor)  # the portfolio changes
    told()
    sign_declaration(db.session, enrolment, by=scene.mentor, today=TODAY)
    check(told(), Kind.SIGNATURE_AWAITED, [scene.apprentice, scene.tutor], **asked)  # for this portfolio
    sign_declaration(db.session, enrolment, by=scene.tutor, today=TODAY)
    assert told().notifications == []
    sign_declaration(db.session, enrolment, by=scene.apprentice, today=TODAY)
    check(
        told(),
        Kind.READY_TO_SUBMIT,
        [scene.tutor],
        link=link,
        title=f"{scene.apprentice.name}'s portfolio is ready to submit to {enrolment.epao.name}",
    )
    opens(client, scene.tutor, link)


def test_a_submission_tells_the_parties_and_asks_the_assessors(scene, told, client):
    sign_all(scene.gateway)
    told()
    submit_to_epao(db.session, scene.enrolment, by=scene.tutor, today=TODAY)
    told_now = told()
    link = f"/enrolments/{scene.enrolment.id}/gateway"
    title = f"{scene.apprentice.name}'s portfolio submitted to {scene.enrolment.epao.name} (attempt 1)"
    assert len(told_now.notifications) == len(told_now.mail) == 3
    check(
        told_now.of([scene.apprentice, scene.mentor]),
        Kind.SUBMITTED,
        [scene.apprentice, scene.mentor],
        title=title,
        link=link,
    )
    # The assessors are asked to decide, on the page where they do.
    check(told_now.of([scene.assessor]), Kind.SUBMITTED, [scene.assessor], title=title, link=f"{link}/decision")
    opens(client, scene.assessor, f"{link}/decision")


@pytest.mark.parametrize("referred", [False, True])
def test_the_assessment_organisations_decision_tells_the_parties_with_the_reasons(scene, told, client, referred):
    sign_all(scene.gateway)
    submit_to_epao(db.session, scene.enrolment, by=scene.tutor, today=TODAY)
    told()
    decisions = {code: (True, "") for code in GATEWAY_ITEMS}
    if referred:
        decisions |= {"otj_hours": (False, "Two entries lack dates."), "declarations": (False, "Unsigned page.")}
    submission = db.session.scalars(select(GatewaySubmission)).one()
    decide_gateway(db.session, submission, by=scene.assessor, decisions=decisions, note="Thank you.")
    epao, name = scene.enrolment.epao.name, scene.apprentice.name
    link = f"/enrolments/{scene.enrolment.id}/gateway"
    if referred:
        title = f"Gateway to completion attempt 1 referred back by {epao} for {name}"
        body = (
            "Off-the-job training hours: Two entries lack dates.\n"
            "Declarations of apprentice, employer and provider: Unsigned page.\n"
            "Note from the assessor: Thank you."
        )
    else:
        title = f"Gateway to completion signed off by {epao}: {name} is now in apprenticeship assessment"
        body = "Note from the assessor: Thank you."
    check(
        told(), Kind.GATEWAY_DECISION, [scene.apprentice, scene.mentor, scene.tutor], title=title, body=body, link=link
    )
    opens(client, scene.apprentice, link)


# Exports -------------------------------------------------------------------------------------------


def test_an_export_ready_tells_whoever_asked_for_it(scene, told, client):
    export = ask_for_export(db.session, scene.enrolment, ExportFormat.PDF, actor=scene.tutor)
    link = f"/enrolments/{scene.enrolment.id}/exports/{export.id}"
    check(
        told(),
        Kind.EXPORT_READY,
        [scene.tutor],
        link=link,
        title=f"The PDF of {scene.apprentice.name}'s portfolio is ready to download",
    )
    opens(client, scene.tutor, link)
