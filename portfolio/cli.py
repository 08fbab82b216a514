"""The `portfolio` command: Flask's own commands plus the tracker's."""

from __future__ import annotations

import json
import sys
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import NoReturn

import click
from flask import Flask
from flask.cli import AppGroup, FlaskGroup, with_appcontext
from sqlalchemy import select

from standard import (
    Problem,
    Standard,
    StandardError,
    load_standard,
    shipped_path,
    shipped_references,
)
from standard.ifate import import_ifate

from .core.text import clean_line
from .models import AgeBand, Organisation, OrganisationKind, Role, StandardVersion, User

standard_cli = AppGroup("standard", help="Check, load, show and import apprenticeship standards.")
org_cli = AppGroup("org", help="Manage organisations.")
user_cli = AppGroup("user", help="Manage user accounts.")
evidence_cli = AppGroup("evidence", help="Check and sweep the evidence store.")
audit_cli = AppGroup("audit", help="Check and read the audit trail.")
mail_cli = AppGroup("mail", help="Send the email waiting in the outbox.")
reminders_cli = AppGroup("reminders", help="Send the reminders due now.")


def init_app(app: Flask) -> None:
    from .demo.build import demo_command

    app.cli.add_command(standard_cli)
    app.cli.add_command(org_cli)
    app.cli.add_command(user_cli)
    app.cli.add_command(enrol_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(evidence_cli)
    app.cli.add_command(export_command)
    app.cli.add_command(audit_cli)
    app.cli.add_command(mail_cli)
    app.cli.add_command(reminders_cli)
    app.cli.add_command(worker_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


def main() -> None:
    from . import create_app
    from .config import BadSetting, MissingSetting

    try:
        FlaskGroup(create_app=create_app, help="The apprenticeship portfolio tracker.")(prog_name="portfolio")
    except (MissingSetting, BadSetting) as setting:
        click.echo(f"Error: {setting}", err=True)
        sys.exit(2)


def _fail(problems: tuple[Problem, ...] | list[Problem]) -> NoReturn:
    for problem in problems:
        click.echo(str(problem), err=True)
    sys.exit(1)


def _load_or_fail(path: str) -> Standard:
    try:
        return load_standard(path)
    except StandardError as exc:
        _fail(exc.problems)


def _summary(standard: Standard) -> str:
    counts = ", ".join(f"{len(standard.criteria_of(k))} {k.value}" for k in standard.kinds)
    return (
        f"{standard.reference} version {standard.version}: {len(standard)} criteria "
        f"({counts}) in {len(standard.areas)} areas"
    )


@standard_cli.command("validate", with_appcontext=False)
@click.argument("file", type=click.Path(dir_okay=False))
def validate_command(file: str) -> None:
    """Check a standard's YAML FILE and report every problem with its line and column."""
    standard = _load_or_fail(file)
    click.echo(f"{file}: valid. {_summary(standard)}")


@standard_cli.command("show", with_appcontext=False)
@click.argument("reference_or_file")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def show_command(reference_or_file: str, as_json: bool) -> None:
    """Show the criteria tree of a shipped standard (e.g. ST0396) or of a YAML file."""
    path = Path(reference_or_file)
    if not path.is_file():
        path = shipped_path(reference_or_file)
        if path is None:
            known = ", ".join(shipped_references())
            _fail([Problem(reference_or_file, 0, 0, f"no such file or shipped standard (shipped: {known})")])
    standard = _load_or_fail(str(path))
    click.echo(json.dumps(standard_as_json(standard), indent=2) if as_json else standard_as_text(standard))


@standard_cli.command("import-ifate", with_appcontext=False)
@click.argument("json_file", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    "yaml_file",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="Where to write the YAML ('-' for standard output).",
)
@click.option("--reference", help="The reference (e.g. ST0123), where the record lacks it; wins over the record's.")
@click.option("--version", help="The version (e.g. 1.0), where the record lacks it; wins over the record's.")
@click.option("--title", help="The title, where the record lacks it; wins over the record's.")
def import_ifate_command(
    json_file: str, yaml_file: str, reference: str | None, version: str | None, title: str | None
) -> None:
    """Turn a standard in the public standards JSON format into YAML that validates.

    What the record gets wrong but the standard can do without (a duty mapping an id that is
    not in the record, a KSB with no text) is left out and reported as a warning.
    """
    try:
        data = Path(json_file).read_bytes()
    except OSError as exc:
        _fail([Problem(json_file, 0, 0, f"cannot read the file: {exc.strerror}")])
    try:
        imported = import_ifate(data, json_file, reference=reference, version=version, title=title)
    except StandardError as exc:
        _fail(exc.problems)
    for warning in imported.warnings:
        click.echo(f"warning: {warning}", err=True)
    if yaml_file == "-":
        click.echo(imported.text, nl=False)
        return
    try:
        Path(yaml_file).write_text(imported.text, encoding="utf-8")
    except OSError as exc:
        _fail([Problem(yaml_file, 0, 0, f"cannot write the file: {exc.strerror}")])
    count = len(imported.warnings)
    warned = f" ({count} warning{'s' if count > 1 else ''} above)" if count else ""
    click.echo(f"Wrote {yaml_file}{warned}. {_summary(load_standard(yaml_file))}", err=True)


@standard_cli.command("load")
@click.argument("reference_or_file")
def load_command(reference_or_file: str) -> None:
    """Store a standard from a YAML file (or a shipped one, e.g. ST0396) for enrolments to use."""
    from .enrolments.standard_versions import store_standard
    from .extensions import db

    path = Path(reference_or_file)
    if not path.is_file():
        path = shipped_path(reference_or_file)
        if path is None:
            _fail([Problem(reference_or_file, 0, 0, "no such file or shipped standard")])
    try:
        version, new = store_standard(db.session, path.read_text(encoding="utf-8"), str(path))
    except StandardError as exc:
        _fail(exc.problems)
    except UnicodeDecodeError:
        _fail([Problem(str(path), 0, 0, "the file is not UTF-8 text")])
    db.session.commit()
    state = "Loaded" if new else "Already loaded"
    click.echo(f"{state}: {version.label} (content {version.short_hash})")


@org_cli.command("create")
@click.argument("name")
@click.option("--kind", required=True, type=click.Choice([k.value for k in OrganisationKind]))
def org_create_command(name: str, kind: str) -> None:
    """Create an organisation: an employer, a training provider or an assessment organisation (EPAO)."""
    from .accounts.domain import create_organisation

    organisation = _or_fail(lambda: create_organisation(db_session(), name, OrganisationKind(kind)))
    db_session().commit()
    click.echo(f"Created {organisation.kind.label.lower()} {organisation.name} (id {organisation.id})")


@user_cli.command("create")
@click.argument("email")
@click.option("--name", required=True, help="Full name.")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--organisation", "organisation_name", required=True, help="The organisation's name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--invite", is_flag=True, help="Set no password: email the person an invitation to choose their own.")
def user_create_command(
    email: str, name: str, role: str, organisation_name: str, password_stdin: bool, invite: bool
) -> None:
    """Create a user; the password is asked for (or read from standard input), or with --invite
    the person is emailed a link to choose it."""
    from .accounts.domain import create_user
    from .auth.invitations import invite_new_user

    if invite and password_stdin:
        raise click.UsageError("Give --invite or --password-stdin, not both")
    organisation = _organisation_or_fail(organisation_name)
    details = dict(email=email, name=name, role=Role(role), organisation=organisation, by=None)
    if invite:
        user = _or_fail(lambda: invite_new_user(db_session(), **details))
    else:
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        user = _or_fail(lambda: create_user(db_session(), password=password, **details))
    db_session().commit()
    click.echo(f"Created {user.role.value} {user.email} at {organisation.name}")
    if invite:
        click.echo(f"An invitation to choose a password is on its way to {user.email}")


@click.command("enrol")
@click.argument("apprentice_email")
@click.option("--standard", "reference", required=True, help="Reference, e.g. ST0396 (its latest stored version).")
@click.option("--provider", "provider_name", required=True)
@click.option("--epao", "epao_name", help="The assessment organisation, if chosen.")
@click.option("--tutor", "tutor_email")
@click.option("--mentor", "mentor_email")
@click.option("--start", "start_date", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--end", "end_date", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Planned end date.")
@click.option("--otj-hours", required=True, type=click.IntRange(1))
@click.option("--age-band", required=True, type=click.Choice([a.value for a in AgeBand]))
@click.option(
    "--english-maths",
    default="required",
    show_default=True,
    help="required, achieved, not_required, or an alternative of the standard (e.g. ehc_plan).",
)
@click.option(
    "--english-maths-decided-on", type=click.DateTime(["%Y-%m-%d"]), help="When the route was decided (the start)."
)
@click.option("--english-maths-agreed-by", default="", help="With not_required: who agreed to leave them out.")
@click.option("--weekly-hours", type=click.FloatRange(min=0, min_open=True), help="Contracted hours a week.")
@click.option("--prior-learning-hours", default=0, type=click.IntRange(0), help="Off-the-job hours recognised.")
@click.option("--duration-exception", help="The funding rules' reason for a shorter duration (e.g. transfer).")
@with_appcontext
def enrol_command(apprentice_email, reference, provider_name, epao_name, tutor_email, mentor_email,
                  start_date, end_date, otj_hours, age_band, english_maths, english_maths_decided_on,
                  english_maths_agreed_by, weekly_hours, prior_learning_hours, duration_exception) -> None:  # fmt: skip
    """Enrol an apprentice on the latest stored version of a standard."""
    from .enrolments.domain import EnrolmentTerms, enrol

    session = db_session()
    apprentice = _user_or_fail(apprentice_email)
    version = session.scalar(
        select(StandardVersion).where(StandardVersion.reference == reference.upper())
        .order_by(StandardVersion.loaded_at.desc(), StandardVersion.id.desc())
    )  # fmt: skip
    if version is None:
        _fail([Problem(reference, 0, 0, "no such standard is loaded; run `portfolio standard load` first")])
    terms = EnrolmentTerms(
        provider=_organisation_or_fail(provider_name),
        epao=_organisation_or_fail(epao_name) if epao_name else None,
        mentor=_user_or_fail(mentor_email) if mentor_email else None,
        tutor=_user_or_fail(tutor_email) if tutor_email else None,
        start_date=start_date.date(),
        planned_end_date=end_date.date(),
        planned_otj_hours=otj_hours,
        age_band=AgeBand(age_band),
        english_maths_route=english_maths,
        english_maths_decided_on=(english_maths_decided_on or start_date).date(),
        english_maths_agreed_by=english_maths_agreed_by,
        contracted_weekly_hours=Decimal(str(weekly_hours)).quantize(Decimal("0.1")) if weekly_hours else None,
        prior_learning_otj_hours=prior_learning_hours,
        duration_exception=duration_exception or None,
    )
    enrolment = _or_fail(
        lambda: enrol(
            session, apprentice=apprentice, standard_version=version, employer=apprentice.organisation,
            terms=terms, by=None,
        )
    )  # fmt: skip
    session.commit()
    click.echo(f"Enrolled {apprentice.name} on {version.label} (enrolment {enrolment.id})")


@click.command("worker")
@click.option("--concurrency", default=1, show_default=True, help="How many jobs this worker runs at once.")
@click.option("--until-empty", is_flag=True, help="Run the jobs waiting now, then stop.")
@click.option(
    "--niceness", default=19, show_default=True, type=click.IntRange(0, 19),
    help="How much to lower this process's CPU priority: on a host it shares with web servers, "
    "pages come before exports.",
)  # fmt: skip
@with_appcontext
def worker_command(concurrency: int, until_empty: bool, niceness: int) -> None:
    """Run queued jobs (exports, the evidence sweep) and the periodic ones; run as many workers as
    you like, on any host. On SQLite, jobs run in the web process, and this runs the periodic ones."""
    import os

    from .core.jobs import queue

    if niceness:
        os.nice(niceness)
    jobs = queue()
    if jobs.runner is not None and not until_empty:
        click.echo("SQLite: jobs asked for on the web run in the web process; running the periodic jobs here.")
    jobs.work(concurrency=max(1, concurrency), until_empty=until_empty)


@mail_cli.command("send")
def mail_send_command() -> None:
    """Send every message due now (the queue does this every minute); exit 1 if the server failed."""
    from flask import current_app

    from .notifications.mail import MailSettings, send_waiting

    sent = send_waiting(db_session(), MailSettings.from_config(current_app.config))
    click.echo(f"Sent {sent.sent}, logged {sent.logged} (no mail server set), {sent.failed} waiting to be tried again")
    if sent.failed:
        sys.exit(1)


@reminders_cli.command("send")
def reminders_send_command() -> None:
    """Send the reminders due now that have not been sent (the queue does this every hour); print
    how many of each kind."""
    from flask import current_app

    from .core import clock
    from .models.types import utcnow
    from .reminders.domain import ReminderSettings, send_reminders

    settings = ReminderSettings.from_config(current_app.config)
    sent = send_reminders(db_session(), settings, today=clock.today(), now=utcnow())
    for kind, count in sent.items():
        click.echo(f"{kind.label}: {count}")
    click.echo(f"{sum(sent.values())} reminders sent")


@evidence_cli.command("verify")
def evidence_verify_command() -> None:
    """Rehash every stored evidence file; report missing or altered ones (exit 1 if any)."""
    if not _evidence_verified():
        sys.exit(1)


def _evidence_verified() -> bool:
    """Print what `evidence verify` finds; whether every file is there, unaltered."""
    from .core.storage import evidence_store
    from .evidence.integrity import check_evidence_files

    check = check_evidence_files(db_session(), evidence_store())
    for line in check.problem_lines():
        click.echo(line, err=True)
    click.echo(str(check))
    return check.ok


@evidence_cli.command("sweep")
def evidence_sweep_command() -> None:
    """Delete stored files unreferenced for longer than the grace period, expired staged uploads
    and stale temporary files (PORTFOLIO_SWEEP_GRACE_HOURS, default 24)."""
    from datetime import timedelta

    from flask import current_app

    from .core.storage import evidence_store
    from .evidence.file_sweep import StoreBusy, sweep

    hours = float(current_app.config["SWEEP_GRACE_HOURS"])
    try:
        report = sweep(db_session(), evidence_store(), grace=timedelta(hours=hours))
    except StoreBusy as busy:
        click.echo(busy.message)  # not a failure: nothing is lost by sweeping next time
        return
    click.echo(f"Grace period {hours:g} hours. {report}")


@audit_cli.command("verify")
@click.option(
    "--anchor", "anchor_path", type=click.Path(exists=True, dir_okay=False),
    help="A file of lines `portfolio audit anchor` wrote: each anchored event must still be there, unchanged.",
)  # fmt: skip
def audit_verify_command(anchor_path: str | None) -> None:
    """Check every audit event against its keyed hash and the event before it, and against the
    anchors in FILE (exit 1 if any fails)."""
    from .core.audit import parse_anchors
    from .core.domain import DomainError

    anchors = None
    if anchor_path:
        try:
            anchors = parse_anchors(Path(anchor_path).read_bytes().decode("utf-8", "replace"), Path(anchor_path).name)
        except DomainError as error:
            click.echo(f"Error: {error.message}", err=True)
            sys.exit(1)
    if not _audit_verified(anchors):
        sys.exit(1)


def _audit_verified(anchors: list | None = None) -> bool:
    """Print what `audit verify` finds (against `anchors`, if given); whether the trail is intact."""
    from .core.audit import verify

    result = verify(db_session(), anchors=anchors or [])
    for problem in result.problems:
        click.echo(f"Event {problem.event_id}: {problem.message}", err=True)
    if result.problems:
        count = len(result.problems)
        click.echo(f"Checked {result.events} events: {count} problem{'' if count == 1 else 's'}. ", nl=False)
        click.echo("The audit trail has been altered.")
        return False
    against = f" and {len(anchors)} anchor{'' if len(anchors) == 1 else 's'}" if anchors is not None else ""
    click.echo(f"Checked {result.events} events{against}: the audit trail is intact.")
    # Deleting the newest events leaves no gap: `portfolio audit anchor` keeps this elsewhere.
    click.echo(f"Newest event: {result.newest_id}, hash {result.newest_hash}")
    return True


@audit_cli.command("anchor")
@click.option("--to", "target", metavar="FILE|URL", help="Append the line to this file, or POST it to an http(s) URL.")
def audit_anchor_command(target: str | None) -> None:
    """Print the newest audit event's id, hash and time; keep the line where the database's
    writers cannot reach, for `portfolio audit verify --anchor`."""
    from .core.audit import anchor_line

    line = anchor_line(db_session())
    if line is None:
        click.echo("Error: the audit trail is empty; there is nothing to anchor.", err=True)
        sys.exit(1)
    click.echo(line)
    if target:
        try:
            _append_anchor(target, line)
        except (OSError, ValueError) as error:  # urllib's errors are OSErrors; a malformed URL's, ValueErrors
            click.echo(f"Error: the anchor was not kept at {target}: {error}", err=True)
            sys.exit(1)


ANCHOR_TIMEOUT_SECONDS = 10


def _append_anchor(target: str, line: str) -> None:
    if target.startswith(("http://", "https://")):
        from urllib.request import Request, urlopen

        request = Request(target, data=(line + "\n").encode(), method="POST", headers={"Content-Type": "text/plain"})
        with urlopen(request, timeout=ANCHOR_TIMEOUT_SECONDS):  # noqa: S310 (the scheme is checked above)
            return
    with open(target, "a", encoding="utf-8") as anchors:
        anchors.write(line + "\n")


@audit_cli.command("show")
@click.option("--enrolment", "enrolment_id", type=click.IntRange(1, 2**31 - 1), help="Only this enrolment's trail.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1), help="How many of the newest events.")
def audit_show_command(enrolment_id: int | None, limit: int) -> None:
    """Print the newest audit events, oldest of them first, with their values before and after."""
    from .audit_trail.presentation import event_text
    from .models import AuditEvent

    statement = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if enrolment_id is not None:
        statement = statement.where(AuditEvent.enrolment_id == enrolment_id)
    events = db_session().scalars(statement).all()
    for event in reversed(events):
        click.echo(event_text(event))
    if not events:
        click.echo("No events.")


@click.command("export")
@click.argument("enrolment_id", metavar="ENROLMENT", type=click.IntRange(1, 2**31 - 1))
@click.option("--pdf", "pdf_path", type=click.Path(dir_okay=False), help="Write the portfolio PDF to this file.")
@click.option(
    "--zip", "zip_path", type=click.Path(dir_okay=False),
    help="Write the ZIP (the PDF, every evidence file, manifest.json, mapping.csv, SHA256SUMS) to this file.",
)  # fmt: skip
@with_appcontext
def export_command(enrolment_id: int, pdf_path: str | None, zip_path: str | None) -> None:
    """Export the portfolio of enrolment ENROLMENT (its id) as a PDF, a ZIP or both."""
    from .core.storage import evidence_store
    from .exports import export_pdf, export_zip
    from .models import Enrolment

    if not pdf_path and not zip_path:
        raise click.UsageError("Say what to write: --pdf FILE, --zip FILE or both.")
    session = db_session()
    enrolment = session.get(Enrolment, enrolment_id)
    if enrolment is None:
        click.echo(f"Error: there is no enrolment {enrolment_id}", err=True)
        sys.exit(1)
    pdf = None
    if pdf_path:
        _, pdf = _or_fail(lambda: export_pdf(session, evidence_store(), enrolment, actor=None))
        _written(pdf_path, [pdf])
    if zip_path:
        _, chunks = _or_fail(lambda: export_zip(session, evidence_store(), enrolment, actor=None, pdf=pdf))
        _written(zip_path, chunks)


def _written(path: str, chunks) -> None:
    size = _write_or_fail(path, chunks)
    db_session().commit()  # the export's audit event, once the file is there
    click.echo(f"Wrote {path} ({size:,} bytes)")


def _write_or_fail(path: str, chunks) -> int:
    """Write the chunks to a temporary file beside `path`, then rename it into place, so that a
    failure (a file altered in the evidence store, a full disk) leaves no partial export behind."""
    import os
    import tempfile

    from .core.domain import DomainError

    target = Path(path)
    temporary = None
    size = 0
    try:
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
                size += len(chunk)
        os.replace(temporary, target)
    except (DomainError, OSError) as error:
        if temporary:
            Path(temporary).unlink(missing_ok=True)
        db_session().rollback()
        message = error.message if isinstance(error, DomainError) else f"cannot write {path}: {error.strerror}"
        click.echo(f"Error: {message}", err=True)
        sys.exit(1)
    return size


@click.command("backup")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup_command(directory: Path) -> None:
    """Back up the database, then every evidence file its rows refer to, into DIRECTORY (new or
    empty), with manifest.json and SHA256SUMS."""
    from .core.storage import evidence_store
    from .extensions import db
    from .operations.backup import make_backup

    report = _or_fail(lambda: _writing(lambda: make_backup(db.engine, evidence_store(), directory, say=_progress)))
    click.echo(str(report))


@click.command("restore")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def restore_command(directory: Path) -> None:
    """Restore the backup in DIRECTORY into an empty database and evidence store, once every
    checksum is right; then check the evidence files and the audit trail."""
    from flask_migrate import upgrade

    from . import MIGRATIONS
    from .core.storage import evidence_store
    from .extensions import db
    from .operations.backup import migration_head, restore_backup

    report = _or_fail(lambda: _writing(lambda: restore_backup(db.engine, evidence_store(), directory, say=_progress)))
    click.echo(str(report))
    if report.manifest.alembic_revision != migration_head():
        click.echo(f"Upgrading the database from revision {report.manifest.alembic_revision}:", err=True)
        upgrade(directory=MIGRATIONS)
    for problem in report.problems:
        click.echo(problem, err=True)
    checks = [not report.problems, _evidence_verified(), _audit_verified()]
    if not all(checks):
        click.echo("Error: the restore is finished, but the checks above failed.", err=True)
        sys.exit(1)


def _progress(line: str) -> None:
    click.echo(line, err=True)


def _writing(action):
    """`action()`, with a failure of the disk or the store (full, not allowed) as a DomainError."""
    from .core.domain import DomainError

    try:
        return action()
    except OSError as error:
        raise DomainError(f"{error.strerror or error}{f': {error.filename}' if error.filename else ''}") from None


def db_session():
    from .extensions import db

    return db.session


def _or_fail(action):
    from .core.domain import DomainError

    try:
        return action()
    except DomainError as error:
        db_session().rollback()
        for problem in getattr(error, "problems", ()):  # each file or check of a failed backup or restore
            click.echo(problem, err=True)
        click.echo(f"Error: {error.message}", err=True)
        sys.exit(1)


def _organisation_or_fail(name: str) -> Organisation:
    organisation = db_session().scalar(select(Organisation).where(Organisation.name == clean_line(name)))
    if organisation is None:
        click.echo(f"Error: there is no organisation called {name}", err=True)
        sys.exit(1)
    return organisation


def _user_or_fail(email: str) -> User:
    user = db_session().scalar(select(User).where(User.email == clean_line(email).lower()))
    if user is None:
        click.echo(f"Error: there is no user with the email address {email}", err=True)
        sys.exit(1)
    return user


def standard_as_json(standard: Standard) -> dict:
    return {
        "reference": standard.reference,
        "title": standard.title,
        "level": standard.level,
        "version": standard.version,
        "status": standard.status,
        "approved_for_delivery": standard.approved_for_delivery.isoformat() if standard.approved_for_delivery else None,
        "kinds": [
            {
                "kind": kind.value,
                "areas": [
                    {
                        "title": area.title,
                        "criteria": [{"code": c.code, "text": c.text} for c in area.criteria],
                    }
                    for area in standard.areas_of(kind)
                ],
            }
            for kind in standard.kinds
        ],
        "criteria_count": len(standard),
    }


def standard_as_text(standard: Standard) -> str:
    facts = [f"Level {standard.level}", f"version {standard.version}", standard.status]
    if standard.approved_for_delivery:
        facts.append(f"approved {standard.approved_for_delivery:%d %B %Y}")
    if standard.typical_duration:
        facts.append(f"typically {standard.typical_duration}")
    lines = [f"{standard.reference} {standard.title}", ", ".join(facts)]
    for kind in standard.kinds:
        lines += ["", f"{kind.label} ({len(standard.criteria_of(kind))})"]
        for area in standard.areas_of(kind):
            lines.append(f"  {area.title}")
            for c in area.criteria:
                # a criterion of several parts keeps each part on a line of its own
                lines += (
                    textwrap.fill(
                        part,
                        width=96,
                        initial_indent=f"    {c.code:<4} " if n == 0 else " " * 9,
                        subsequent_indent=" " * 9,
                    )
                    for n, part in enumerate(c.text.splitlines())
                )
    return "\n".join(lines)
