"""How fast the review queue and the workspace render with 5,000 items waiting, against the bare layout.

    python benchmarks/review_queue.py [--waiting 5000] [--apprentices 70] [--seconds 3] [--database-url ...]

Builds, with bulk inserts, a training provider with two tutors, each tutoring half of APPRENTICES
apprentices, and WAITING submitted evidence items spread over them (three criterion links each,
one in ten a resubmission with the referral's feedback, submitted a minute apart). Signs in as
the first tutor and requests, in a loop through the app (WSGI, in-process), the queue as it opens
(their own apprentices, oldest first), the whole provider's queue, its last page, two filters, and
an item's page (the workspace, with its previous and next items); prints requests per second, the
queries each page issued, and the ratio to a minimal page of the same app that renders only the
layout (a signed-in 404). The goal for the queue: at least 0.3 of the bare layout's rate.

By default the database is a scratch SQLite file; --database-url takes an empty PostgreSQL
database instead (the script migrates it and leaves the data there).
"""

from __future__ import annotations

import argparse
import re
import secrets
import tempfile
from datetime import date, timedelta

from flask_migrate import upgrade
from page_throughput import measure  # the same loop, against the same bare layout
from sqlalchemy import insert, select

from portfolio import create_app
from portfolio.accounts.domain import create_organisation, create_user
from portfolio.enrolments.domain import EnrolmentTerms, enrol
from portfolio.enrolments.standard_versions import store_standard
from portfolio.enrolments.totals import recount_all
from portfolio.extensions import db
from portfolio.models import (
    AgeBand,
    CriterionLink,
    EvidenceItem,
    EvidenceKind,
    EvidenceStatus,
    EvidenceStatusChange,
    OrganisationKind,
    Role,
)
from portfolio.models.types import utcnow
from standard import shipped_path

PASSWORD = "benchmark password"
TUTOR = "tutor.one@example.org"
THROWAWAY_KEYS = {"SECRET_KEY": secrets.token_hex(32), "AUDIT_KEY": secrets.token_hex(32)}


def build(waiting: int, apprentices: int) -> int:
    """The provider, its tutors and apprentices, and WAITING submitted items; returns an item id."""
    s = db.session
    version, _ = store_standard(s, shipped_path("ST0396").read_text())
    provider = create_organisation(s, "Tidewater Arts Training", OrganisationKind.PROVIDER)
    employer = create_organisation(s, "Lantern Hill Gallery", OrganisationKind.EMPLOYER)
    tutors = [
        create_user(s, email=email, name=name, role=Role.TUTOR, organisation=provider, password=PASSWORD)
        for email, name in ((TUTOR, "Tutor One"), ("tutor.two@example.org", "Tutor Two"))
    ]
    enrolments = []
    for n in range(apprentices):
        apprentice = create_user(
            s, email=f"apprentice{n}@example.org", name=f"Apprentice {n:03}", role=Role.APPRENTICE,
            organisation=employer, password=PASSWORD,
        )  # fmt: skip
        terms = EnrolmentTerms(
            provider=provider, epao=None, mentor=None, tutor=tutors[n % 2], start_date=date(2025, 9, 1),
            planned_end_date=date(2027, 3, 1), planned_otj_hours=400, age_band=AgeBand.AGED_19_TO_23,
            english_maths_route="achieved",
        )  # fmt: skip
        enrolments.append(
            enrol(s, apprentice=apprentice, standard_version=version, employer=employer, terms=terms, by=None)
        )
    s.flush()
    codes = [c.code for c in version.standard]
    start = utcnow() - timedelta(minutes=waiting + 10)
    rows = [
        {
            "enrolment_id": enrolments[n % apprentices].id,
            "title": f"Evidence item {n}",
            "kind": list(EvidenceKind)[n % 11].value,
            "activity_date": date(2026, 3, 1),
            "description": "A workshop with a local school. " * 3,
            "reflection": "",
            "contains_third_party_data": False,
            "consent_reference": "",
            "status": EvidenceStatus.SUBMITTED.value,
            "created_by_id": enrolments[n % apprentices].apprentice_id,
            "created_at": start,
            "updated_at": start,
            "submitted_at": start + timedelta(minutes=n),
            "attempt": 2 if n % 10 == 0 else 1,
        }
        for n in range(waiting)
    ]
    s.execute(insert(EvidenceItem.__table__), rows)
    ids = list(s.scalars(select(EvidenceItem.id).order_by(EvidenceItem.id)))
    s.execute(
        insert(CriterionLink.__table__),
        [
            {"item_id": item_id, "criterion_code": code, "justification": f"How it shows {code}.", "feedback": ""}
            for n, item_id in enumerate(ids)
            for code in codes[n % 40 : n % 40 + 3]
        ],
    )
    s.execute(
        insert(EvidenceStatusChange.__table__),
        [
            {
                "item_id": item_id,
                "from_status": EvidenceStatus.SUBMITTED.value,
                "to_status": EvidenceStatus.REFERRED.value,
                "changed_by_id": tutors[0].id,
                "changed_at": start,
                "note": "Say which risks you found and how you controlled them.",
            }  # fmt: skip
            for n, item_id in enumerate(ids)
            if n % 10 == 0
        ],
    )
    recount_all(s)
    s.commit()
    return ids[waiting // 2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--waiting", type=int, default=5000)
    parser.add_argument("--apprentices", type=int, default=70)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as instance:
        url = args.database_url or f"sqlite:///{instance}/bench.db"
        app = create_app({"DATABASE_URL": url, "FILE_READINGS": False, **THROWAWAY_KEYS}, instance_path=instance)
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
            item_id = build(args.waiting, args.apprentices)
            enrolment_id = db.session.get(EvidenceItem, item_id).enrolment_id
        client = app.test_client()
        html = client.get("/sign-in").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
        signed_in = client.post("/sign-in", data={"email": TUTOR, "password": PASSWORD, "csrf_token": token})
        assert signed_in.status_code == 302, "could not sign in"
        baseline, _, _ = measure(app, client, "/no-such-page", args.seconds)
        print(f"{args.waiting:,} items waiting; bare layout (signed-in 404): {baseline:.0f} requests/s")
        pages = {
            "queue: mine, oldest first": "/review",
            "queue: the whole provider": "/review?tutor=",
            "queue: its last page": "/review?tutor=&page=200",
            "queue: resubmissions, newest": "/review?tutor=&resubmissions=1&sort=newest",
            "queue: one criterion": "/review?tutor=&criterion=K3",
            "workspace (an item's page)": f"/enrolments/{enrolment_id}/evidence/{item_id}?tutor=",
        }
        for name, page_url in pages.items():
            rate, queries, status = measure(app, client, page_url, args.seconds)
            print(f"{name:32} {rate:7.0f} requests/s  {queries:2} queries  ratio {rate / baseline:.2f} (HTTP {status})")


if __name__ == "__main__":
    main()
