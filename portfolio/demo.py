"""`portfolio demo`: a database full of fictional people and organisations, and a server to try it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy import select

from standard import shipped_path

from .accounts import create_organisation, create_user, reset_password
from .enrolments import EnrolmentTerms, change_status, enrol
from .extensions import db
from .models import AgeBand, Enrolment, EnrolmentStatus, Organisation, OrganisationKind, Role, User
from .standard_versions import store_standard

DEFAULT_PASSWORD = "portfolio-demo-2026"

ORGANISATIONS = [
    ("Northgate Arts Training", OrganisationKind.PROVIDER),
    ("Harbourside Museum", OrganisationKind.EMPLOYER),
    ("Larkfield Playhouse", OrganisationKind.EMPLOYER),
    ("Crescent Assessment Services", OrganisationKind.EPAO),
]

USERS = [
    ("admin@northgate-arts.example", "Rosa Lindqvist", Role.ADMIN, "Northgate Arts Training"),
    ("priya.natarajan@northgate-arts.example", "Priya Natarajan", Role.TUTOR, "Northgate Arts Training"),
    ("tom.whitlock@northgate-arts.example", "Tom Whitlock", Role.TUTOR, "Northgate Arts Training"),
    ("helen.osei@harbourside-museum.example", "Helen Osei", Role.EMPLOYER, "Harbourside Museum"),
    ("gareth.lloyd@larkfield-playhouse.example", "Gareth Lloyd", Role.EMPLOYER, "Larkfield Playhouse"),
    ("marion.adebayo@crescent-assessment.example", "Marion Adebayo", Role.ASSESSOR, "Crescent Assessment Services"),
    ("amira.hassan@harbourside-museum.example", "Amira Hassan", Role.APPRENTICE, "Harbourside Museum"),
    ("jess.okafor@harbourside-museum.example", "Jess Okafor", Role.APPRENTICE, "Harbourside Museum"),
    ("callum.reid@larkfield-playhouse.example", "Callum Reid", Role.APPRENTICE, "Larkfield Playhouse"),
    ("sam.patel@larkfield-playhouse.example", "Sam Patel", Role.APPRENTICE, "Larkfield Playhouse"),
]


@dataclass(frozen=True)
class DemoEnrolment:
    apprentice: str
    months_ago: int
    tutor: str
    mentor: str
    age_band: AgeBand
    english_maths: str
    path: tuple[EnrolmentStatus, ...] = ()  # status changes after enrolling
    epao: str | None = None


ENROLMENTS = [
    DemoEnrolment("amira.hassan@harbourside-museum.example", 11, "priya.natarajan@northgate-arts.example",
                  "helen.osei@harbourside-museum.example", AgeBand.AGED_19_TO_23, "achieved"),
    DemoEnrolment("jess.okafor@harbourside-museum.example", 17, "priya.natarajan@northgate-arts.example",
                  "helen.osei@harbourside-museum.example", AgeBand.AGED_16_TO_18, "required",
                  path=(EnrolmentStatus.AT_GATEWAY,), epao="Crescent Assessment Services"),
    DemoEnrolment("callum.reid@larkfield-playhouse.example", 3, "tom.whitlock@northgate-arts.example",
                  "gareth.lloyd@larkfield-playhouse.example", AgeBand.AGED_24_PLUS, "not_required"),
    DemoEnrolment("sam.patel@larkfield-playhouse.example", 7, "tom.whitlock@northgate-arts.example",
                  "gareth.lloyd@larkfield-playhouse.example", AgeBand.AGED_16_TO_18, "ehc_plan",
                  path=(EnrolmentStatus.BREAK_IN_LEARNING,)),
]  # fmt: skip


def build_demo(password: str = DEFAULT_PASSWORD, today: date | None = None) -> list[User]:
    """Create (or bring up to date) the demo data; safe to run again. Returns the demo users."""
    today = today or date.today()
    session = db.session
    version, _ = store_standard(session, shipped_path("ST0396").read_text(encoding="utf-8"), "st0396.yaml")

    organisations = {}
    for name, kind in ORGANISATIONS:
        organisations[name] = session.scalar(select(Organisation).where(Organisation.name == name)) or (
            create_organisation(session, name, kind)
        )
    users = {}
    for email, name, role, organisation in USERS:
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            user = create_user(
                session, email=email, name=name, role=role, organisation=organisations[organisation], password=password
            )
        elif not user.check_password(password):
            reset_password(user, password)
        user.active = True
        users[email] = user

    for plan in ENROLMENTS:
        apprentice = users[plan.apprentice]
        if session.scalar(select(Enrolment.id).where(Enrolment.apprentice_id == apprentice.id)):
            continue
        start = _months_before(today, plan.months_ago)
        terms = EnrolmentTerms(
            provider=organisations["Northgate Arts Training"],
            epao=organisations[plan.epao] if plan.epao else None,
            mentor=users[plan.mentor],
            tutor=users[plan.tutor],
            start_date=start,
            planned_end_date=start + timedelta(days=548),  # 18 months
            planned_otj_hours=375,
            age_band=plan.age_band,
            english_maths_route=plan.english_maths,
            english_maths_decided_on=start,
        )
        enrolment = enrol(
            session,
            apprentice=apprentice,
            standard_version=version,
            employer=apprentice.organisation,
            terms=terms,
            by=users["admin@northgate-arts.example"],
        )
        for status in plan.path:
            change_status(session, enrolment, status, users["admin@northgate-arts.example"], "Demo data")
    session.commit()
    return list(users.values())


def _months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    return date(month_index // 12, month_index % 12 + 1, min(day.day, 28))


@click.command("demo")
@click.option("--no-serve", is_flag=True, help="Only prepare the database; do not start the server.")
@click.option("--password", default=DEFAULT_PASSWORD, show_default=True, help="Password for every demo login.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@with_appcontext
def demo_command(no_serve: bool, password: str, port: int) -> None:
    """Create or upgrade the database, fill it with fictional demo data, and serve the app."""
    from .accounts import check_password_strength
    from .domain import DomainError

    try:
        check_password_strength(password)
    except DomainError as error:
        raise click.BadParameter(error.message, param_hint="--password") from None
    upgrade(directory=current_app.extensions["migrate"].directory)
    users = build_demo(password)
    click.echo("\nDemo logins (every password is the same):\n")
    click.echo(f"  {'Email':<46} {'Role':<11} Password")
    for user in users:
        click.echo(f"  {user.email:<46} {user.role.value:<11} {password}")
    if no_serve:
        return
    url = f"http://127.0.0.1:{port}/"
    click.echo(f"\nServing the demo on {url} (press Ctrl+C to stop)\n")
    from werkzeug.serving import run_simple

    run_simple("127.0.0.1", port, current_app._get_current_object(), threaded=True)
