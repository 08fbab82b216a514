"""Migration 0025: each item's submission count, counted from its history, and a referred item's
reviewer set to the tutor who referred it, as referrals keep it from now on."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from portfolio import MIGRATIONS
from portfolio.evidence.items import submit
from portfolio.extensions import db
from portfolio.models import EvidenceItem, Role
from portfolio.review.domain import Decision, decide, start_review


def _columns() -> set[str]:
    return {c["name"] for c in inspect(db.engine).get_columns("evidence_items")}


def test_the_migration_counts_attempts_and_gives_referred_items_their_reviewer(world, two_employers):
    enrolment, tutor = two_employers["museum_enrolment"], two_employers["tutor"]
    other = world.user(Role.TUTOR, two_employers["provider"], name="Ffion Dale")
    draft = world.evidence(enrolment, title="Draft", submitted=False)
    once = world.evidence(enrolment, title="Once")
    referred, resubmitted = world.evidence(enrolment, title="Referred"), world.evidence(enrolment, title="Again")
    for item, by in ((referred, other), (resubmitted, tutor)):
        start_review(db.session, item, by=by)
        decide(db.session, item, by=by, decision=Decision.REFER, feedback="Say who came.")
    submit(resubmitted, by=enrolment.apprentice)
    db.session.commit()
    ids = {item.title: item.id for item in (draft, once, referred, resubmitted)}
    other_id = other.id
    db.session.remove()
    db.engine.dispose()
    try:
        downgrade(directory=MIGRATIONS, revision="0024")
        assert "attempt" not in _columns()
        with db.engine.begin() as connection:  # as the code before it left them: no reviewer after a referral
            connection.execute(text("UPDATE evidence_items SET reviewer_id = NULL"))
    finally:
        upgrade(directory=MIGRATIONS)
    items = {title: db.session.get(EvidenceItem, item_id) for title, item_id in ids.items()}
    assert {title: item.attempt for title, item in items.items()} == {"Draft": 0, "Once": 1, "Referred": 1, "Again": 2}
    assert items["Referred"].reviewer_id == other_id and items["Referred"].review_started_at is None
    # A resubmission that was waiting before the migration waits for anybody, as it did.
    assert items["Again"].reviewer_id is None and items["Once"].reviewer_id is None
