"""What the administration pages read: lists with their search filters, counts, and the choices
of the enrolment form, each in a fixed number of queries."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, defer, joinedload, selectinload

from ..enrolments.queries import enrolments_matching, person_matches, with_everyone_named
from ..models import (
    Enrolment,
    EnrolmentStatus,
    EnrolmentStatusChange,
    Organisation,
    OrganisationKind,
    Role,
    StandardVersion,
    User,
)

# What a list of enrolments shows, fetched with the enrolments in one query (not the standards' YAML).
ENROLMENT_ROW = (
    joinedload(Enrolment.apprentice),
    joinedload(Enrolment.standard_version).defer(StandardVersion.yaml_text),
    joinedload(Enrolment.employer),
    joinedload(Enrolment.provider),
)
# What the page of one enrolment shows, in two queries.
ENROLMENT_PAGE = (
    *with_everyone_named(yaml=True),
    selectinload(Enrolment.status_changes).joinedload(EnrolmentStatusChange.changed_by),
)


def counts_by(session: Session, column) -> dict:
    """How many rows have each value of `column`."""
    return dict(session.execute(select(column, func.count()).group_by(column)).all())


def standard_version_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(StandardVersion))


def organisations_matching(text: str, kind: OrganisationKind | None) -> Select:
    statement = select(Organisation)
    if text:
        statement = statement.where(Organisation.name.icontains(text, autoescape=True))
    if kind:
        statement = statement.where(Organisation.kind == kind)
    return statement.order_by(Organisation.name, Organisation.id)


def user_counts(session: Session, organisation_ids: Iterable[int]) -> dict[int, int]:
    """How many users each of the organisations has (none listed for an organisation without)."""
    per_organisation = select(User.organisation_id, func.count()).group_by(User.organisation_id)
    return dict(session.execute(per_organisation.where(User.organisation_id.in_(organisation_ids))).all())


def user_count(session: Session, organisation_id: int) -> int:
    return session.scalar(select(func.count()).where(User.organisation_id == organisation_id))


def users_matching(text: str, role: Role | None, organisation_id: int | None) -> Select:
    statement = select(User)
    if text:
        statement = statement.where(person_matches(text))
    if role:
        statement = statement.where(User.role == role)
    if organisation_id is not None:
        statement = statement.where(User.organisation_id == organisation_id)
    return statement.order_by(User.name, User.id)


def organisations_by_name(session: Session) -> list[Organisation]:
    return list(session.scalars(select(Organisation).order_by(Organisation.name)))


def enrolments_of_apprentice(session: Session, apprentice_id: int) -> list[Enrolment]:
    return session.scalars(
        select(Enrolment)
        .where(Enrolment.apprentice_id == apprentice_id)
        .options(*ENROLMENT_ROW)
        .order_by(Enrolment.start_date.desc(), Enrolment.id.desc())
    ).all()


def enrolments_listed(text: str, status: EnrolmentStatus | None) -> Select:
    """Every enrolment matching the admin list's search, with what its row shows."""
    return enrolments_matching(select(Enrolment).options(*ENROLMENT_ROW), text, status)


def enrolment_with_page(enrolment_id: int) -> Select:
    """The enrolment with everything its admin page shows."""
    return select(Enrolment).where(Enrolment.id == enrolment_id).options(*ENROLMENT_PAGE)


def providers_and_epaos(session: Session) -> list[Organisation]:
    return session.scalars(
        select(Organisation)
        .where(Organisation.kind.in_((OrganisationKind.PROVIDER, OrganisationKind.EPAO)))
        .order_by(Organisation.name)
    ).all()


def assignable_staff(session: Session, enrolment: Enrolment | None) -> list[User]:
    """Active tutors and employers' staff (of the enrolment's employer, for an enrolment), and
    whoever the enrolment has now even if their account was deactivated since."""
    current = [enrolment.tutor_id, enrolment.mentor_id] if enrolment else []
    staff = select(User).where(
        User.role.in_((Role.TUTOR, Role.EMPLOYER)), User.active.is_(True) | User.id.in_([i for i in current if i])
    )
    if enrolment is not None:
        staff = staff.where((User.role == Role.TUTOR) | (User.organisation_id == enrolment.employer_id))
    return session.scalars(staff.order_by(User.name, User.id)).all()


def standard_versions_to_choose(session: Session) -> list[StandardVersion]:
    """Every loaded version, by reference and newest first, for the enrolment form."""
    return session.scalars(
        select(StandardVersion).order_by(StandardVersion.reference, StandardVersion.loaded_at.desc())
    ).all()


def standard_versions_listed(session: Session) -> list[StandardVersion]:
    """Every loaded version for the standards page, without its YAML."""
    return session.scalars(
        select(StandardVersion)
        .options(defer(StandardVersion.yaml_text))
        .order_by(StandardVersion.reference, StandardVersion.loaded_at.desc(), StandardVersion.id.desc())
    ).all()


def enrolments_pinned_to(session: Session, version_id: int) -> int:
    return session.scalar(select(func.count()).where(Enrolment.standard_version_id == version_id))
