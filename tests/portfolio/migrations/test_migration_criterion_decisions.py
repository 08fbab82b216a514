"""Migration 0027: the item-level decisions made before become the same decision on each
criterion the item claims, with its feedback and its reviewer, so that old records read the
same; the history of each is kept."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select

from portfolio import MIGRATIONS
from portfolio.evidence.items import submit
from portfolio.extensions import db
from portfolio.models import CriterionDecision, EvidenceItem, LinkDecision
from portfolio.review.domain import Decision, decide, start_review


def test_item_decisions_become_decisions_on_each_criterion(world, two_employers):
    enrolment, tutor = two_employers["museum_enrolment"], two_employers["tutor"]
    accepted, referred, again = (world.evidence(enrolment, title=t) for t in ("Accepted", "Referred", "Again"))
    for item, decision, feedback in (
        (accepted, Decision.ACCEPT, "Well done."),
        (referred, Decision.REFER, "Say who came."),
        (again, Decision.REFER, "Name the venue."),
    ):
        start_review(db.session, item, by=tutor)
        decide(db.session, item, by=tutor, decision=decision, feedback=feedback)
    submit(again, by=enrolment.apprentice)
    start_review(db.session, again, by=tutor)
    decide(db.session, again, by=tutor, decision=Decision.ACCEPT)
    db.session.commit()
    ids, tutor_id = {item.title: item.id for item in (accepted, referred, again)}, tutor.id
    db.session.remove()
    db.engine.dispose()
    try:
        downgrade(directory=MIGRATIONS, revision="0026")
        assert "criterion_decisions" not in inspect(db.engine).get_table_names()
    finally:
        upgrade(directory=MIGRATIONS)
    items = {title: db.session.get(EvidenceItem, item_id) for title, item_id in ids.items()}
    for title, decision, feedback in (
        ("Accepted", LinkDecision.ACCEPTED, "Well done."),
        ("Referred", LinkDecision.REFERRED, "Say who came."),
        ("Again", LinkDecision.ACCEPTED, ""),
    ):
        links = items[title].links
        assert [(k.criterion_code, k.decision, k.feedback, k.decided_by_id) for k in links] == [
            (code, decision, feedback, tutor_id) for code in ("K1", "S4")
        ], title
    history = db.session.scalars(
        select(CriterionDecision).where(CriterionDecision.item_id == ids["Again"]).order_by(CriterionDecision.id)
    ).all()
    assert [(d.criterion_code, d.decision, d.attempt) for d in history] == [
        ("K1", LinkDecision.REFERRED, 1),
        ("S4", LinkDecision.REFERRED, 1),
        ("K1", LinkDecision.ACCEPTED, 2),
        ("S4", LinkDecision.ACCEPTED, 2),
    ]
