"""Telling people: notifications written with the change they tell of, read and chosen by each person.

`notify` is what every feature calls. It writes, in the caller's transaction, one notification per
person and, for those who hear of that kind by email straight away, one outbox message; a job sends
the outbox once the transaction commits (mail.py). A change rolled back takes its notifications
and its email with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..core.domain import DomainError
from ..models import Enrolment, Role, User
from ..models.notifications import Delivery, Notification, NotificationPreference
from ..models.types import utcnow
from . import mail
from .kinds import Kind, kinds_for

MAX_TITLE = 300


@dataclass(frozen=True)
class Notice:
    """One thing to tell some people: what (`title`, `body`, in the app only) and where to act."""

    people: Sequence[User]
    title: str
    link: str
    body: str = ""
    enrolment: Enrolment | None = None
    occasion: str | None = None


def notify(
    session: Session,
    people: Iterable[User],
    kind: Kind,
    *,
    title: str,
    link: str,
    body: str = "",
    enrolment: Enrolment | None = None,
    actor: User | None = None,
    occasion: str | None = None,
    now: datetime | None = None,
) -> list[Notification]:
    """Tell each of `people` (once each; never the `actor`, nor anyone inactive) what `title` says.

    With an `occasion`, a person already told of that occasion is not told again: the reminders'
    jobs may find the same occasion every time they run, on any number of hosts."""
    notice = Notice(list(people), title, link, body, enrolment, occasion)
    return notify_all(session, kind, [notice], actor=actor, now=now)


def notify_all(
    session: Session, kind: Kind, notices: Iterable[Notice], *, actor: User | None = None, now: datetime | None = None
) -> list[Notification]:
    """`notify` for many notices of one kind at once, in a fixed number of queries however many
    there are (the reminders' jobs tell hundreds of people at a time)."""
    now = now or utcnow()
    actor_id = actor.id if actor is not None else None
    recipients: dict[int, User] = {}
    rows: dict[tuple[int, str, int], dict] = {}
    for number, notice in enumerate(notices):
        for person in notice.people:
            if not person.is_active or person.id == actor_id:
                continue
            recipients[person.id] = person
            # Each person once per notice; with an occasion, once however many notices carry it.
            key = (person.id, notice.occasion or "", number if notice.occasion is None else -1)
            rows.setdefault(key, _row(person.id, kind, notice, now))
    if not rows:
        return []
    deliveries = delivery_choices(session, list(recipients), kind)
    for row in rows.values():
        row["delivery"] = deliveries[row["user_id"]]
        row["emailed_at"] = now if row["delivery"] is Delivery.EMAIL_NOW else None
    # In one order on every host, so that two runs at once wait for each other rather than deadlock.
    inserted = _insert_new(session, [rows[key] for key in sorted(rows)])
    notifications = list(
        session.scalars(select(Notification).where(Notification.id.in_(inserted)).order_by(Notification.id))
    )
    mail.queue_notification_emails(
        session,
        kind,
        [(recipients[n.user_id], n.link) for n in notifications if n.delivery is Delivery.EMAIL_NOW],
    )
    return notifications


def _row(user_id: int, kind: Kind, notice: Notice, now: datetime) -> dict:
    return {
        "user_id": user_id,
        "kind": kind.value,
        "enrolment_id": notice.enrolment.id if notice.enrolment is not None else None,
        "title": notice.title[:MAX_TITLE],
        "body": notice.body,
        "link": notice.link,
        "occasion": notice.occasion,
        "created_at": now,
    }


def _insert_new(session: Session, rows: list[dict]) -> list[int]:
    """Insert the rows, skipping those whose (user, occasion) is already there; the new ids."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Notification).on_conflict_do_nothing(index_elements=["user_id", "occasion"])
    return list(session.scalars(statement.returning(Notification.id), rows))


def delivery_choices(session: Session, user_ids: Sequence[int], kind: Kind) -> dict[int, Delivery]:
    """How each person hears of `kind`: their own choice, else the kind's default (one query)."""
    chosen = dict(
        session.execute(
            select(NotificationPreference.user_id, NotificationPreference.delivery).where(
                NotificationPreference.user_id.in_(user_ids), NotificationPreference.kind == kind.value
            )
        ).all()
    )
    return {user_id: chosen.get(user_id, kind.about.default) for user_id in user_ids}


def preferences(session: Session, user: User) -> dict[Kind, Delivery]:
    """Each kind `user` can receive, with how they hear of it."""
    chosen = dict(
        session.execute(
            select(NotificationPreference.kind, NotificationPreference.delivery).where(
                NotificationPreference.user_id == user.id
            )
        ).all()
    )
    return {kind: chosen.get(kind.value, kind.about.default) for kind in kinds_for(user.role)}


def set_preferences(session: Session, user: User, choices: dict[Kind, Delivery]) -> None:
    """Keep `user`'s choices (a personal setting, not a record of the apprenticeship: not audited);
    a kind their role cannot receive is refused."""
    offered = set(kinds_for(user.role))
    if unknown := [kind.label for kind in choices if kind not in offered]:
        raise DomainError(f"These notifications are not sent to you: {', '.join(unknown)}.")
    existing = {
        row.kind: row
        for row in session.scalars(select(NotificationPreference).where(NotificationPreference.user_id == user.id))
    }
    for kind, delivery in choices.items():
        row = existing.get(kind.value)
        if row is None:
            session.add(NotificationPreference(user_id=user.id, kind=kind.value, delivery=delivery))
        else:
            row.delivery = delivery


# Reading


def notifications_of(user: User, *, unread_only: bool = False) -> Select[tuple[Notification]]:
    """`user`'s notifications, the newest first (for paginating)."""
    statement = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        statement = statement.where(Notification.read_at.is_(None))
    return statement.order_by(Notification.created_at.desc(), Notification.id.desc())


def unread_count(session: Session, user: User, kind: Kind | None = None) -> int:
    """How many of `user`'s notifications (of `kind`, if given) are unread (one query)."""
    statement = select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if kind is not None:
        statement = statement.where(Notification.kind == kind.value)
    return session.scalar(statement) or 0


def mark_read(session: Session, user: User, notification_ids: Iterable[int] | None = None) -> int:
    """Mark `user`'s notifications read: those given, or all of them. Someone else's are left alone
    (the ids come from a form). How many were unread."""
    statement = (
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if notification_ids is not None:
        statement = statement.where(Notification.id.in_(list(notification_ids)))
    return session.execute(statement).rowcount or 0  # type: ignore[attr-defined]


def open_notification(session: Session, user: User, notification_id: int) -> Notification | None:
    """`user`'s notification, marked read (following its link reads it); None if it is not theirs."""
    notification = session.scalar(
        select(Notification).where(Notification.id == notification_id, Notification.user_id == user.id)
    )
    if notification is not None and notification.read_at is None:
        notification.read_at = utcnow()
    return notification


# Who is told: the people related to an enrolment, as access is (core/access.py).


def people_of(session: Session, enrolment: Enrolment, *roles: Role) -> list[User]:
    """The enrolment's people of `roles`: its apprentice; its mentor, else its employer's people;
    its tutor, else its provider's tutors; its assessment organisation's assessors; its provider's
    administrators. One query at most."""
    return people_of_each(session, [enrolment], *roles)[enrolment.id]


def people_of_each(session: Session, enrolments: Sequence[Enrolment], *roles: Role) -> dict[int, list[User]]:
    """`people_of` for many enrolments, by enrolment id, in one query at most (load their
    apprentice, mentor and tutor with them, or each is a query of its own)."""
    direct: dict[int, list[User]] = {}
    # The people told through an organisation, as (role, organisation id), per enrolment.
    through: dict[int, list[tuple[Role, int]]] = {}
    for enrolment in enrolments:
        people, wanted = direct.setdefault(enrolment.id, []), through.setdefault(enrolment.id, [])
        if Role.APPRENTICE in roles:
            people.append(enrolment.apprentice)
        if Role.EMPLOYER in roles:
            if enrolment.mentor is not None and enrolment.mentor.is_active:
                people.append(enrolment.mentor)
            else:
                wanted.append((Role.EMPLOYER, enrolment.employer_id))
        if Role.TUTOR in roles:
            if enrolment.tutor is not None and enrolment.tutor.is_active:
                people.append(enrolment.tutor)
            else:
                wanted.append((Role.TUTOR, enrolment.provider_id))
        if Role.ASSESSOR in roles and enrolment.epao_id is not None:
            wanted.append((Role.ASSESSOR, enrolment.epao_id))
        if Role.ADMIN in roles:
            wanted.append((Role.ADMIN, enrolment.provider_id))
    found: dict[tuple[Role, int], list[User]] = {}
    if pairs := {pair for wanted in through.values() for pair in wanted}:
        by_role: dict[Role, set[int]] = {}
        for role, organisation_id in pairs:
            by_role.setdefault(role, set()).add(organisation_id)
        members = session.scalars(
            select(User)
            .where(
                User.active.is_(True),
                or_(*((User.role == role) & User.organisation_id.in_(sorted(ids)) for role, ids in by_role.items())),
            )
            .order_by(User.id)
        )
        for member in members:
            found.setdefault((member.role, member.organisation_id), []).append(member)
    return {
        enrolment_id: [
            person
            for person in [*people, *(member for pair in through[enrolment_id] for member in found.get(pair, []))]
            if person.is_active
        ]
        for enrolment_id, people in direct.items()
    }


# The daily digest


def send_digests(session: Session, *, now: datetime | None = None) -> int:
    """One email per person with notifications waiting for their digest: how many of each kind,
    and a link to the list. Each notification goes into one digest only, whoever runs this at once
    (the rows are taken by the same UPDATE that marks them). The number of digests written."""
    now = now or utcnow()
    taken = session.execute(
        update(Notification)
        .where(Notification.delivery == Delivery.DAILY_DIGEST, Notification.emailed_at.is_(None))
        .values(emailed_at=now)
        .returning(Notification.user_id, Notification.kind)
        .execution_options(synchronize_session=False)
    ).all()
    counts: dict[int, dict[str, int]] = {}
    for user_id, kind in taken:
        counts.setdefault(user_id, {}).setdefault(kind, 0)
        counts[user_id][kind] += 1
    people = session.scalars(select(User).where(User.id.in_(counts), User.active.is_(True))).all()
    for person in people:
        lines = [(Kind(kind).about.email_subject, n) for kind, n in sorted(counts[person.id].items())]
        settings = mail.link_to("/notifications/settings")
        mail.queue_email(
            session,
            person.email,
            "Your daily summary from the apprenticeship portfolio",
            "digest",
            user=person,
            headers={"List-Unsubscribe": f"<{settings}>"},
            lines=lines,
            link=mail.link_to("/notifications"),
        )
    session.commit()
    return len(people)
