"""The commands admins script with: org, user, enrol, standard load, demo, db upgrade."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from portfolio.extensions import db
from portfolio.models import Enrolment, EnrolmentStatus, Organisation, Role, StandardVersion, User

FIXTURES = Path(__file__).parent.parent / "standard" / "fixtures"


def run(runner, *args, input=None):
    db.session.commit()
    result = runner.invoke(args=[str(a) for a in args], input=input)
    db.session.expire_all()
    return result


def test_org_and_user_create(runner):
    assert run(runner, "org", "create", "Harbourside Museum", "--kind", "employer").exit_code == 0
    result = run(
        runner,
        "user", "create", "Helen.Osei@Harbourside.example", "--name", "Helen Osei", "--role", "employer",
        "--organisation", "Harbourside Museum", "--password-stdin",
        input="a long enough password\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User))
    assert (user.email, user.role, user.organisation.name) == (
        "helen.osei@harbourside.example",
        Role.EMPLOYER,
        "Harbourside Museum",
    )
    assert user.check_password("a long enough password")


def test_user_create_prompts_for_the_password(runner, world):
    world.provider("Northgate Arts Training")
    result = run(
        runner, "user", "create", "tutor@northgate.example", "--name", "Tom Whitlock", "--role", "tutor",
        "--organisation", "Northgate Arts Training", input="secret password 1\nsecret password 1\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Password" in result.output and "secret password 1" not in result.output


def test_commands_refuse_bad_input_with_a_message(runner, world):
    world.employer("Harbourside Museum")
    cases = [
        (("org", "create", "Harbourside Museum", "--kind", "employer"), "already exists"),
        (("org", "create", "   ", "--kind", "employer"), "Enter the organisation's name"),
        (("user", "create", "x@example.org", "--name", "X", "--role", "tutor", "--organisation", "Harbourside Museum",
          "--password-stdin"), "belongs to a training provider"),
        (("user", "create", "x@example.org", "--name", "X", "--role", "employer", "--organisation", "Nowhere",
          "--password-stdin"), "there is no organisation called Nowhere"),
        (("user", "create", "not-an-email", "--name", "X", "--role", "employer", "--organisation", "Harbourside Museum",
          "--password-stdin"), "Enter an email address in the correct format"),
        (("user", "create", "x@example.org", "--name", "X", "--role", "employer", "--organisation", "Harbourside Museum",
          "--password-stdin"), "at least 10 characters"),
        (("enrol", "nobody@example.org", "--standard", "ST0396", "--provider", "P", "--start", "2025-09-01", "--end",
          "2026-09-01", "--otj-hours", "300", "--age-band", "19-23"), "there is no user"),
    ]  # fmt: skip
    for args, message in cases:
        result = run(runner, *args, input="short\n")
        assert result.exit_code == 1, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 1


def test_standard_load_is_idempotent_and_versions_changes(runner, tmp_path):
    result = run(runner, "standard", "load", "ST0396")
    assert result.exit_code == 0 and "Loaded: ST0396" in result.output
    result = run(runner, "standard", "load", "ST0396")
    assert "Already loaded" in result.output
    changed = tmp_path / "st0396-changed.yaml"
    from standard import shipped_path

    changed.write_text(shipped_path("ST0396").read_text().replace('version: "1.0"', 'version: "1.1"'))
    assert "Loaded: ST0396" in run(runner, "standard", "load", changed).output
    assert db.session.scalar(select(func.count()).select_from(StandardVersion)) == 2


def test_standard_load_shows_the_validators_messages(runner):
    result = run(runner, "standard", "load", FIXTURES / "broken" / "duplicate_code.yaml")
    assert result.exit_code == 1
    assert "duplicate_code.yaml:36:17: criterion code 'K1' is used twice" in result.output
    assert db.session.scalar(select(func.count()).select_from(StandardVersion)) == 0


def test_enrol(runner, world):
    provider = world.provider("Northgate Arts Training")
    employer = world.employer("Harbourside Museum")
    world.epao("Crescent Assessment")
    apprentice = world.user(Role.APPRENTICE, employer, email="amira@harbourside.example")
    world.user(Role.TUTOR, provider, email="priya@northgate.example")
    run(runner, "standard", "load", "ST0396")
    args = [
        "enrol", "amira@harbourside.example", "--standard", "st0396", "--provider", "Northgate Arts Training",
        "--epao", "Crescent Assessment", "--tutor", "priya@northgate.example", "--start", "2025-09-01",
        "--end", "2027-03-01", "--otj-hours", "375", "--age-band", "16-18", "--english-maths", "ehc_plan",
    ]  # fmt: skip
    result = run(runner, *args)
    assert result.exit_code == 0, result.output
    enrolment = db.session.scalar(select(Enrolment))
    assert enrolment.apprentice_id == apprentice.id and enrolment.status is EnrolmentStatus.ON_PROGRAMME
    assert enrolment.english_maths_route == "ehc_plan" and enrolment.epao.name == "Crescent Assessment"
    assert [c.to_status for c in enrolment.status_changes] == [EnrolmentStatus.ON_PROGRAMME]
    again = run(runner, *args)
    assert again.exit_code == 1 and "already enrolled" in again.output
    bad_route = run(runner, *[a if a != "ehc_plan" else "not_required" for a in args])
    assert bad_route.exit_code == 1


def test_demo_prepares_the_database_twice_safely(runner):
    from portfolio.models import (
        CriterionJudgement,
        EvidenceFile,
        EvidenceItem,
        OtjEntry,
        ProgressReview,
        WitnessSignature,
    )

    def counts() -> dict[type, int]:
        models = (EvidenceItem, CriterionJudgement, WitnessSignature, OtjEntry, ProgressReview, Enrolment, User)
        return {model: db.session.scalar(select(func.count()).select_from(model)) for model in models}

    first = run(runner, "demo", "--no-serve", "--password", "demo password 123")
    assert first.exit_code == 0, first.output
    created = counts()
    second = run(runner, "demo", "--no-serve", "--password", "another password 456")
    assert second.exit_code == 0, second.output
    assert counts() == created  # realistic data, created once however often the demo runs
    assert "admin@northgate-arts.example" in second.output and "another password 456" in second.output
    users = db.session.scalars(select(User)).all()
    assert {u.role for u in users} == set(Role)
    assert all(u.check_password("another password 456") for u in users)
    enrolments = db.session.scalars(select(Enrolment)).all()
    assert len(enrolments) >= 3 and len({e.status for e in enrolments}) >= 3
    employers = {e.employer.name for e in enrolments}
    assert employers == {"Harbourside Museum", "Larkfield Playhouse"}
    from portfolio.core.storage import evidence_store

    items = db.session.scalars(select(EvidenceItem)).all()
    assert len(items) > 20
    assert {i.status.value for i in items} == {"draft", "submitted", "accepted", "referred"}
    assert created[WitnessSignature] >= 1 and created[CriterionJudgement] >= 49 and created[OtjEntry] > 100
    reviews = db.session.scalars(select(ProgressReview)).all()
    assert any(r.completed_at for r in reviews) and any(not r.completed_at for r in reviews)
    files = db.session.scalars(select(EvidenceFile)).all()
    assert {f.media_type for f in files} == {"application/pdf", "image/png", "text/csv"}
    assert all(evidence_store().size(f.sha256) >= 80 for f in files)  # small, but never empty
    assert evidence_store().check({f.sha256 for f in files}) == []


def test_demo_refuses_a_short_password(runner):
    result = run(runner, "demo", "--no-serve", "--password", "short")
    assert result.exit_code == 2 and "at least 10 characters" in result.output


def test_the_migrations_match_the_models(app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from portfolio.extensions import Base

    def not_the_queues(name, type_, parent_names) -> bool:  # as migrations/env.py: procrastinate's own schema
        return not (type_ == "table" and name.startswith("procrastinate_"))

    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": not_the_queues})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
