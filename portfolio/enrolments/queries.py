"""How enrolments are read with what their pages show."""

from __future__ import annotations

from sqlalchemy import Select
from sqlalchemy.orm import Session, joinedload

from ..core.access import enrolments_visible_to
from ..models import Enrolment, EnrolmentStatus, StandardVersion, User


def with_everyone_named(*, yaml: bool) -> tuple:
    """Loader options for an enrolment with its standard version and every person and organisation
    on it, in the enrolment's own query; `yaml` loads the version's YAML text, which lists need not."""
    version = joinedload(Enrolment.standard_version)
    return (
        joinedload(Enrolment.apprentice),
        version if yaml else version.defer(StandardVersion.yaml_text),
        *(
            joinedload(party)
            for party in (Enrolment.employer, Enrolment.provider, Enrolment.epao, Enrolment.tutor, Enrolment.mentor)
        ),
    )


def person_matches(text: str):
    """The clause for a search box over people: `text` in the name or the email, as typed
    (`%` and `_` are letters here, not wildcards)."""
    return User.name.icontains(text, autoescape=True) | User.email.icontains(text, autoescape=True)


def enrolments_matching(enrolments: Select, text: str, status: EnrolmentStatus | None) -> Select:
    """`enrolments` narrowed to an apprentice whose name or email holds `text` and to `status`,
    in the apprentices' order (the admin list and the staff's home page search alike)."""
    statement = enrolments.join(Enrolment.apprentice)
    if text:
        statement = statement.where(person_matches(text))
    if status:
        statement = statement.where(Enrolment.status == status)
    return statement.order_by(User.name, Enrolment.id)


def enrolments_newest_first(session: Session, user: User) -> list[Enrolment]:
    """Every enrolment `user` sees, with everyone on it, the newest start first (an apprentice's)."""
    statement = enrolments_visible_to(user).options(*with_everyone_named(yaml=False))
    return list(session.scalars(statement.order_by(Enrolment.start_date.desc())))
