"""The portfolio's revision goes up with every change to what its exports show, and only then."""

from __future__ import annotations

import re

from sqlalchemy import select

from portfolio.accounts.domain import rename_organisation
from portfolio.enrolments.revision import NAMED, SHOWN
from portfolio.exports.gather import gather
from portfolio.extensions import db
from portfolio.models import Enrolment, EvidenceComment, EvidenceItem, Role

from ..conftest import recording_queries


def _revision(enrolment: Enrolment) -> int:
    db.session.refresh(enrolment)
    return enrolment.portfolio_revision


def test_changes_to_the_portfolio_raise_its_revision_and_no_other(world):
    enrolment, other = world.enrolment(), world.enrolment()
    db.session.commit()
    mine, theirs = _revision(enrolment), _revision(other)

    item = world.evidence(enrolment, submitted=False)
    db.session.commit()
    assert _revision(enrolment) > mine
    assert _revision(other) == theirs

    mine = _revision(enrolment)
    item.links[0].justification = "Shows the audience research, and how it shaped the plan."
    db.session.commit()
    assert _revision(enrolment) == mine + 1  # a row reached through its item

    mine = _revision(enrolment)
    item.title = "Half-term lantern workshop plan"
    db.session.commit()
    assert _revision(enrolment) == mine + 1


def test_what_the_exports_do_not_show_leaves_the_revision_alone(world):
    enrolment = world.enrolment()
    item = world.evidence(enrolment)
    db.session.commit()
    before = _revision(enrolment)
    db.session.add(EvidenceComment(item=item, author=enrolment.apprentice, body="Is the risk assessment enough?"))
    enrolment.apprentice.email = "a.okafor@harbourside.example.org"  # a new address, the same name
    db.session.commit()
    assert _revision(enrolment) == before


def test_renaming_an_organisation_raises_every_revision(world):
    first = world.enrolment()
    second = world.enrolment(tutor=world.user(Role.TUTOR, world.provider("Westbrook College")))
    db.session.commit()
    before = [_revision(first), _revision(second)]
    rename_organisation(db.session, first.employer, "Harbour Lights Gallery")
    db.session.commit()
    assert [_revision(first), _revision(second)] == [before[0] + 1, before[1] + 1]


def test_every_table_an_export_reads_is_one_whose_changes_raise_the_revision(world):
    """An export asked for in the same revision is not read again: were a table the export shows
    missing from SHOWN, a change to it would leave an old export standing."""
    enrolment = world.enrolment()
    world.evidence(enrolment)
    db.session.commit()
    with recording_queries() as statements:
        gather(db.session, db.session.scalars(select(Enrolment).where(Enrolment.id == enrolment.id)).one())
    read = {name for statement in statements for name in re.findall(r'(?:FROM|JOIN)\s+"?(\w+)', statement)}
    assert {"evidence_items", "criterion_links", "evidence_files", "otj_entries"} <= read  # the pattern finds them
    covered = {model.__tablename__ for model in (*SHOWN, *NAMED)}
    # A standard version's text is never changed: a new one is stored instead, and moving the
    # enrolment to it is a change of the enrolment.
    assert read - covered == {"standard_versions"}


def test_a_new_item_is_counted_in_the_flush_that_writes_it(world):
    enrolment = world.enrolment()
    db.session.commit()
    before = _revision(enrolment)
    world.evidence(enrolment, submitted=False)
    db.session.flush()
    assert db.session.scalar(select(Enrolment.portfolio_revision).where(Enrolment.id == enrolment.id)) > before
    assert db.session.scalar(select(EvidenceItem.id).where(EvidenceItem.enrolment_id == enrolment.id))
