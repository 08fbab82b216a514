"""A small library for building the world a test needs in a line or two."""

from __future__ import annotations

import itertools
import re
from datetime import date

from sqlalchemy import create_engine, text

from portfolio import MIGRATIONS, create_app
from portfolio.accounts.domain import create_organisation, create_user
from portfolio.enrolments.domain import EnrolmentTerms, enrol
from portfolio.enrolments.standard_versions import store_standard
from portfolio.extensions import db
from portfolio.models import AgeBand, Enrolment, Organisation, OrganisationKind, Role, StandardVersion, User
from standard import shipped_path

PASSWORD = "correct horse battery"
# A tiny but real PDF and PNG, for evidence files.
PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG_BYTES = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)
_numbers = itertools.count(1)


def migrate_database(url: str) -> None:
    """Bring a database to the latest migration, as `portfolio db upgrade` does."""
    from flask_migrate import upgrade

    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test"})
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        db.engine.dispose()


QUEUE_TABLES = ["procrastinate_events", "procrastinate_periodic_defers", "procrastinate_jobs", "procrastinate_workers"]


def empty_database(url: str) -> None:
    """Delete every row, keeping the schema: each test starts from nothing."""
    from portfolio.extensions import Base

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
        if engine.dialect.name == "postgresql":
            tables += QUEUE_TABLES  # jobs a test left must not reach the next
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))
    engine.dispose()


class World:
    """Makes organisations, users, standards and enrolments with sensible defaults."""

    def __init__(self, session) -> None:
        self.session = session

    def organisation(self, kind: OrganisationKind, name: str | None = None) -> Organisation:
        return create_organisation(self.session, name or f"{kind.label} {next(_numbers)}", kind)

    def employer(self, name: str | None = None) -> Organisation:
        return self.organisation(OrganisationKind.EMPLOYER, name)

    def provider(self, name: str | None = None) -> Organisation:
        return self.organisation(OrganisationKind.PROVIDER, name)

    def epao(self, name: str | None = None) -> Organisation:
        return self.organisation(OrganisationKind.EPAO, name)

    def user(self, role: Role, organisation: Organisation, name: str | None = None, email: str | None = None) -> User:
        number = next(_numbers)
        name = name or f"{role.label.split()[0]} {number}"
        email = email or f"{re.sub(r'[^a-z0-9]+', '.', name.lower())}.{number}@example.org"
        return create_user(
            self.session, email=email, name=name, role=role, organisation=organisation, password=PASSWORD
        )

    def evidence(
        self,
        enrolment: Enrolment,
        *,
        title: str = "Community workshop plan",
        links: dict[str, str] | None = None,
        files: dict[str, bytes] | None = None,
        submitted: bool = True,
        activity_date: date | None = None,
    ):
        """An evidence item of the enrolment's apprentice, submitted unless told otherwise."""
        import io

        from portfolio.core.storage import evidence_store, max_upload_bytes
        from portfolio.evidence.items import EvidenceDetails, Upload, create_item, submit
        from portfolio.models import EvidenceKind

        details = EvidenceDetails(
            title=title,
            kind=EvidenceKind.EVENT_PLAN,
            activity_date=activity_date or enrolment.start_date,
            description="Plan for a half-term family workshop.",
            reflection="Booking the room early helped.",
            links=links if links is not None else {"K1": "Shows the audience research.", "S4": "Risk assessment."},
        )
        files = files if files is not None else {"plan.pdf": PDF_BYTES}
        item = create_item(
            self.session,
            evidence_store(),
            enrolment=enrolment,
            author=enrolment.apprentice,
            details=details,
            uploads=[Upload(io.BytesIO(data), name) for name, data in files.items()],
            max_bytes=max_upload_bytes(),
            today=date(2100, 1, 1),
        )
        if submitted:
            submit(item, by=enrolment.apprentice)
        self.session.flush()
        return item

    def standard_version(self, reference: str = "ST0396") -> StandardVersion:
        version, _ = store_standard(self.session, shipped_path(reference).read_text(encoding="utf-8"))
        return version

    def enrolment(
        self,
        *,
        employer: Organisation | None = None,
        provider: Organisation | None = None,
        epao: Organisation | None = None,
        apprentice: User | None = None,
        tutor: User | None = None,
        mentor: User | None = None,
        start: date = date(2025, 9, 1),
        standard_version: StandardVersion | None = None,
        **terms,
    ) -> Enrolment:
        employer = employer or (apprentice.organisation if apprentice else self.employer())
        provider = provider or (tutor.organisation if tutor else self.provider())
        apprentice = apprentice or self.user(Role.APPRENTICE, employer)
        defaults = dict(
            provider=provider,
            epao=epao,
            mentor=mentor,
            tutor=tutor,
            start_date=start,
            planned_end_date=date(start.year + 1, start.month, 28) if start.month != 2 else date(start.year + 1, 3, 1),
            planned_otj_hours=375,
            age_band=AgeBand.AGED_19_TO_23,
            english_maths_route="achieved",
        )
        defaults.update(terms)
        return enrol(
            self.session,
            apprentice=apprentice,
            standard_version=standard_version or self.standard_version(),
            employer=employer,
            terms=EnrolmentTerms(**defaults),
            by=None,
        )


def run_jobs(app) -> None:
    """Run every job waiting now, as `portfolio worker --until-empty` does: on PostgreSQL a real
    procrastinate worker, on SQLite the wait for the in-process runner."""

    def work() -> None:
        with app.app_context():
            app.extensions["queue"].work(until_empty=True)

    in_a_thread(work)


def in_a_thread(action):
    """`action()` on a thread of its own, its result returned and its error raised here: the
    worker runs an asyncio loop, and a browser test's Playwright keeps one running on this thread."""
    import threading

    outcome: dict = {}

    def run() -> None:
        try:
            outcome["result"] = action()
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=run, name="test-worker")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")


def export_through_web(client, enrolment_id: int, export_format: str):
    """Ask for an export as the page's button does, let the worker make it, and download it.

    Returns the last response: the download, or the refusal or the page that says why not."""
    asked = client.post(f"/enrolments/{enrolment_id}/exports/{export_format}")
    if asked.status_code != 303:
        return asked
    run_jobs(client.application)
    page = client.get(asked.headers["Location"])
    if page.status_code != 200 or "/download" in asked.headers["Location"]:
        return page
    link = re.search(r'href="([^"]+/download)"', page.get_data(as_text=True))
    if link is None:
        return page
    return client.get(link.group(1))
