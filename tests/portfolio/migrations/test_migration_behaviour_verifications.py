"""Migration 0023: the employer's verifications of behaviours, added beside what was there and
taken away again on a downgrade, leaving the rest as it was."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import func, inspect, select

from portfolio import MIGRATIONS
from portfolio.extensions import db
from portfolio.models import BehaviourDecision, BehaviourVerification, Enrolment, User

from ..gateway_world import confirm_behaviours, ready_enrolment, verifying_version

TABLES = {"behaviour_verifications", "behaviour_decisions"}


def _tables() -> set[str]:
    return set(inspect(db.engine).get_table_names())


def test_the_migration_adds_the_tables_and_its_downgrade_takes_them_away(world):
    gateway = ready_enrolment(world, standard_version=verifying_version())  # the mentor verifies
    db.session.commit()
    assert db.session.scalar(select(func.count(BehaviourDecision.id))) == 11
    enrolment_id, mentor_id = gateway.enrolment.id, gateway.mentor.id
    db.session.remove()
    db.engine.dispose()  # the migration drops tables: no connection of the test may hold them
    try:
        downgrade(directory=MIGRATIONS, revision="0022")
        assert not TABLES & _tables()
        assert "enrolments" in _tables()
    finally:
        upgrade(directory=MIGRATIONS)
    assert _tables() >= TABLES
    columns = {c["name"] for c in inspect(db.engine).get_columns("behaviour_decisions")}
    assert columns == {"id", "verification_id", "criterion_code", "statement", "confirmed", "note"}
    enrolment = db.session.get(Enrolment, enrolment_id)  # the apprenticeship is untouched
    assert enrolment is not None and db.session.scalar(select(func.count(BehaviourVerification.id))) == 0
    confirm_behaviours(enrolment, db.session.get(User, mentor_id))
    db.session.commit()
    assert db.session.scalar(select(func.count(BehaviourDecision.id))) == 11
