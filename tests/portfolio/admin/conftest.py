"""Fixtures and helpers for the admin area: an administrator, signed in, and quick ways to fill tables."""

from __future__ import annotations

import html
import itertools
from datetime import date

import pytest
from sqlalchemy import insert, select

from portfolio.extensions import Base, db
from portfolio.models import (
    AgeBand,
    Enrolment,
    EnrolmentStatus,
    Organisation,
    OrganisationKind,
    Role,
    StandardVersion,
    User,
)

_numbers = itertools.count(1)
# Rows made in bulk never sign in, so they share one placeholder instead of hashing a password each.
_NO_PASSWORD = "scrypt:32768:8:1$bulk$not-a-real-hash"


@pytest.fixture
def admin(world, two_employers):
    """An administrator at the provider of `two_employers`."""
    user = world.user(Role.ADMIN, two_employers["provider"], name="Rosa Lindqvist")
    db.session.commit()
    return user


@pytest.fixture
def as_admin(signed_in, admin):
    """The test client, signed in as the administrator."""
    return signed_in(admin)


def text_of(response) -> str:
    """The response's HTML with entities decoded, for looking for messages in it."""
    return html.unescape(response.get_data(as_text=True))


def database_state() -> dict[str, list]:
    """Every row of every table (but the sign-in sessions and throttle): a refused form leaves this as it was."""
    db.session.expire_all()
    return {
        table.name: db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
        for table in Base.metadata.sorted_tables
        if not table.name.startswith("sign_in_")
    }


def bulk_organisations(count: int, kind: OrganisationKind = OrganisationKind.EMPLOYER) -> None:
    db.session.execute(
        insert(Organisation), [{"name": f"Bulk {kind.value} {next(_numbers)}", "kind": kind} for _ in range(count)]
    )
    db.session.commit()


def bulk_users(count: int, role: Role, organisation: Organisation) -> list[int]:
    rows = []
    for _ in range(count):
        number = next(_numbers)
        rows.append(
            {
                "email": f"bulk.person.{number}@example.org",
                "name": f"Bulk Person {number}",
                "role": role,
                "organisation_id": organisation.id,
                "password_hash": _NO_PASSWORD,
                "active": True,
            }
        )
    ids = list(db.session.scalars(insert(User).returning(User.id), rows))
    db.session.commit()
    return ids


def bulk_enrolments(count: int, version: StandardVersion, employer: Organisation, provider: Organisation) -> None:
    """`count` apprentices at `employer`, each enrolled on `version`."""
    apprentices = bulk_users(count, Role.APPRENTICE, employer)
    db.session.execute(
        insert(Enrolment),
        [
            {
                "apprentice_id": apprentice_id,
                "standard_version_id": version.id,
                "employer_id": employer.id,
                "provider_id": provider.id,
                "start_date": date(2025, 9, 1),
                "planned_end_date": date(2026, 12, 31),
                "planned_otj_hours": 400,
                "age_band": AgeBand.AGED_19_TO_23,
                "english_maths_route": "achieved",
                "status": EnrolmentStatus.ON_PROGRAMME,
            }
            for apprentice_id in apprentices
        ],
    )
    db.session.commit()


def bulk_standard_versions(count: int, template: StandardVersion) -> None:
    """Versions with `template`'s text under distinct hashes (the list never parses them)."""
    db.session.execute(
        insert(StandardVersion),
        [
            {
                "reference": template.reference,
                "version": f"9.{number}",
                "title": template.title,
                "content_hash": f"{number:064x}",
                "yaml_text": template.yaml_text,
            }
            for number in (next(_numbers) for _ in range(count))
        ],
    )
    db.session.commit()
