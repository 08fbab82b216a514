"""The one rule for stored text (portfolio.text), and that every place that stores text uses it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import String, Text, select

from portfolio.accounts.domain import create_organisation, create_user
from portfolio.core.domain import DomainError
from portfolio.core.text import clean_line, clean_text, storable
from portfolio.evidence.items import EvidenceDetails, apply_details
from portfolio.extensions import db
from portfolio.models import EvidenceItem, EvidenceKind, Organisation, OrganisationKind, Role, User
from portfolio.models.types import StorableString, StorableText
from portfolio.otj.domain import check_learning
from portfolio.review.domain import add_comment

from ...helpers import PASSWORD

pytestmark = pytest.mark.one_transaction  # stays on db.session: rolled back, not emptied

# The C0 and C1 controls and DEL, but those that are blank space or line breaks (tab, LF, VT, FF, CR, NEL).
CONTROLS = "".join(chr(c) for c in [*range(0x00, 0x09), *range(0x0E, 0x20), *range(0x7F, 0x85), *range(0x86, 0xA0)])
INVISIBLE = "\u061c\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff"


def test_clean_text_keeps_tabs_and_line_breaks_and_drops_controls():
    assert clean_text("  Plan\x00ned\tworkshop\r\nfor\rschools\x0bsecond line\x7f\x9b\n ") == (
        "Planned\tworkshop\nfor\nschools\nsecond line"
    )
    assert clean_text("a\u2028b\u2029c\x85d\x0ce") == "a\nb\nc\nd\ne"
    assert clean_text("lone \ud800surrogate") == "lone surrogate"
    assert clean_text(f"a{CONTROLS}b") == "ab"


def test_clean_text_keeps_what_people_write():
    text = "Café ☕ — “quotes”, עברית and العربية, 👩‍🎨, tab\there"
    assert clean_text(text) == text
    assert clean_text("\u202eright to left in a paragraph") == "\u202eright to left in a paragraph"


def test_clean_line_also_drops_invisible_characters_and_collapses_space():
    assert clean_line(f" Ro{INVISIBLE}sa \t Lind\x00qvist\r\n") == "Rosa Lindqvist"
    assert clean_line("exe.\u202efdp") == "exe.fdp"
    assert clean_line("Zoë Ng-Ōkafor") == "Zoë Ng-Ōkafor"


def test_storable_only_drops_what_the_database_cannot_store():
    assert storable(f"a\x00b\r\n\tc{INVISIBLE} \x1f\x7f\x85\ud83d") == f"ab\r\n\tc{INVISIBLE} \x1f\x7f\x85"


def test_every_text_column_has_the_safety_net(app):
    columns = [column for table in db.metadata.tables.values() for column in table.columns]
    netted = {str(column) for column in columns if isinstance(column.type, StorableString)}
    assert {"users.email", "evidence_items.description", "audit_events.after"} <= netted
    assert isinstance(User.__table__.c.name.type, StorableString)
    assert isinstance(EvidenceItem.__table__.c.description.type, StorableText)
    # Enums are strings too, but keep their own type; no plain String or Text column is left.
    assert not [column for column in columns if type(column.type) in (String, Text)]


def test_a_nul_never_reaches_the_database(app, world):
    """Below the domain: a model written directly, and a query comparing a column with a NUL."""
    organisation = Organisation(name="Fenwick\x00 Gallery", kind=OrganisationKind.EMPLOYER)
    db.session.add(organisation)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Organisation, organisation.id).name == "Fenwick Gallery"
    assert db.session.scalar(select(User).where(User.email == "nobody\x00@example.org")) is None


def test_organisations_and_users_are_stored_clean(app, world):
    employer = create_organisation(db.session, " Fenwick\x00\u202e Gallery ", OrganisationKind.EMPLOYER)
    user = create_user(
        db.session,
        email=" Zoe.Ng\x00@Example.org\u200b",
        name="Zoë\x07 \u2066Ng",
        role=Role.APPRENTICE,
        organisation=employer,
        password=PASSWORD,
    )
    db.session.commit()
    assert (employer.name, user.email, user.name) == ("Fenwick Gallery", "zoe.ng@example.org", "Zoë Ng")


def test_evidence_comments_and_training_are_stored_clean(app, world):
    enrolment = world.enrolment()
    details = EvidenceDetails(
        title="Work\u200bshop\x00 plan",
        kind=EvidenceKind.EVENT_PLAN,
        activity_date=enrolment.start_date + timedelta(days=1),
        description="Line one\r\nline\x00 two",
        reflection="\x1bReflection\x7f",
        links={"K1": "Shows\x00 K1\r"},
    )
    item = EvidenceItem(enrolment=enrolment, created_by=enrolment.apprentice)
    apply_details(item, details, enrolment.start_date + timedelta(days=2))
    assert (item.title, item.description, item.reflection) == ("Workshop plan", "Line one\nline two", "Reflection")
    assert [link.justification for link in item.links] == ["Shows K1"]
    db.session.add(item)
    db.session.flush()
    comment = add_comment(db.session, item, by=enrolment.apprentice, body="Is\x00 this\r\nright?")
    assert comment.body == "Is this\nright?"
    assert check_learning("Safe\x00guarding\r\n") == "Safeguarding"


@pytest.mark.parametrize("blank", ["\x00", "\x00 \x07\r\n\x0b"])
def test_a_text_of_nothing_but_controls_is_missing(app, world, blank):
    """The rules check what is left once cleaned: a comment of controls is no comment."""
    enrolment = world.enrolment()
    item = world.evidence(enrolment)
    with pytest.raises(DomainError, match="Write a comment"):
        add_comment(db.session, item, by=enrolment.apprentice, body=blank)
