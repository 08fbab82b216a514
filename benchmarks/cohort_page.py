"""How the cohort dashboard scales: the same pages for a cohort of 200 and of 2,000 enrolments.

    python benchmarks/cohort_page.py [--seconds 3] [--database-url postgresql://...]

Builds, with bulk inserts, two training providers in one database: one with 200 enrolments and
one with 2,000, each enrolment with 10 evidence items of 5 criterion links (100,000 links for
the large cohort), 10 criterion judgements, 20 off-the-job entries and 3 progress reviews.
Then signs in as a tutor of each provider and requests each page in a loop through the app
(WSGI, in-process), printing the median time per request, the queries each page issued, and
the ratio of the large cohort's time to the small one's (aim for the pages: at most 2; the CSV holds
every row, so its time grows with the cohort).

By default the database is a scratch SQLite file; --database-url takes an empty PostgreSQL
database instead (the script migrates it and leaves the data there).
"""

from __future__ import annotations

import argparse
import re
import secrets
import statistics
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal

from flask_migrate import upgrade
from sqlalchemy import event, insert, select, text

from portfolio import create_app
from portfolio.accounts.domain import create_organisation, create_user
from portfolio.enrolments.standard_versions import store_standard
from portfolio.enrolments.totals import recount_all
from portfolio.extensions import db
from portfolio.models import (
    AgeBand,
    CriterionJudgement,
    CriterionLink,
    Enrolment,
    EnrolmentStatus,
    EvidenceItem,
    EvidenceKind,
    EvidenceStatus,
    OrganisationKind,
    OtjActivity,
    OtjEntry,
    OtjStatus,
    ProgressReview,
    ReviewInterval,
    ReviewSignature,
    Role,
    User,
)
from portfolio.models.types import utcnow
from standard import Signer, shipped_path

# A throwaway instance: PostgreSQL runs need the keys every host of a real one shares.
THROWAWAY_KEYS = {"SECRET_KEY": secrets.token_hex(32), "AUDIT_KEY": secrets.token_hex(32)}

PASSWORD = "benchmark password"
ITEMS, LINKS, JUDGEMENTS, OTJ_ENTRIES, REVIEWS = 10, 5, 10, 20, 3
EVIDENCE_STATUSES = [
    EvidenceStatus.ACCEPTED,
    EvidenceStatus.ACCEPTED,
    EvidenceStatus.SUBMITTED,
    EvidenceStatus.REFERRED,
    EvidenceStatus.DRAFT,
]
START = date(2025, 1, 6)


def build(label: str, size: int, version) -> str:
    """A provider with `size` enrolments at 20 employers; returns the email of its first tutor."""
    s = db.session
    provider = create_organisation(s, f"{label} Training", OrganisationKind.PROVIDER)
    employers = [create_organisation(s, f"{label} Employer {n}", OrganisationKind.EMPLOYER) for n in range(20)]
    tutors = [
        create_user(
            s, email=f"tutor{n}@{label.lower()}.example", name=f"{label} Tutor {n}", role=Role.TUTOR,
            organisation=provider, password=PASSWORD,
        )
        for n in range(10)
    ]  # fmt: skip
    s.flush()
    codes = [criterion.code for criterion in version.standard]
    now = utcnow()
    apprentice_ids = s.execute(
        insert(User).returning(User.id, sort_by_parameter_order=True),
        [
            {
                "email": f"apprentice{n}@{label.lower()}.example", "name": f"Apprentice {n:05} {label}",
                "role": Role.APPRENTICE, "organisation_id": employers[n % 20].id, "password_hash": "-",
                "created_at": now,
            }
            for n in range(size)
        ],
    ).scalars().all()  # fmt: skip
    enrolments = s.execute(
        insert(Enrolment).returning(Enrolment.id, Enrolment.apprentice_id, sort_by_parameter_order=True),
        [
            {
                "apprentice_id": apprentice_id, "standard_version_id": version.id,
                "employer_id": employers[n % 20].id, "provider_id": provider.id, "tutor_id": tutors[n % 10].id,
                "start_date": START + timedelta(days=n % 300),
                "planned_end_date": START + timedelta(days=540 + n % 300), "planned_otj_hours": 300 + n % 200,
                "age_band": AgeBand.AGED_19_TO_23, "english_maths_route": "achieved",
                "review_interval": ReviewInterval.TWELVE_WEEKS if n % 2 else ReviewInterval.THREE_MONTHS,
                "status": EnrolmentStatus.AT_GATEWAY if n % 10 == 0 else EnrolmentStatus.ON_PROGRAMME,
                "created_at": now,
            }
            for n, apprentice_id in enumerate(apprentice_ids)
        ],
    ).all()  # fmt: skip
    item_ids = s.execute(
        insert(EvidenceItem).returning(EvidenceItem.id, sort_by_parameter_order=True),
        [
            {
                "enrolment_id": enrolment_id, "title": f"Evidence {k}", "kind": EvidenceKind.REPORT,
                "activity_date": START, "status": EVIDENCE_STATUSES[(n + k) % len(EVIDENCE_STATUSES)],
                "created_by_id": apprentice_id, "created_at": now, "updated_at": now,
            }
            for n, (enrolment_id, apprentice_id) in enumerate(enrolments)
            for k in range(ITEMS)
        ],
    ).scalars().all()  # fmt: skip
    s.execute(
        insert(CriterionLink),
        [
            {"item_id": item_id, "criterion_code": codes[(n * 7 + j) % len(codes)], "justification": "Shown here."}
            for n, item_id in enumerate(item_ids)
            for j in range(LINKS)
        ],
    )
    s.execute(
        insert(CriterionJudgement),
        [
            {
                "enrolment_id": enrolment_id, "criterion_code": codes[(n + j) % len(codes)], "level_code": "met",
                "met": (n + j) % 3 != 0, "judged_by_id": tutors[n % 10].id, "judged_at": now,
            }
            for n, (enrolment_id, _) in enumerate(enrolments)
            for j in range(JUDGEMENTS)
        ],
    )  # fmt: skip
    s.execute(
        insert(OtjEntry),
        [
            {
                "enrolment_id": enrolment_id, "activity_date": START + timedelta(days=7 * j),
                "hours": Decimal("3.5"), "activity": OtjActivity.WORKSHOP, "learning": "Workshop facilitation.",
                "status": OtjStatus.APPROVED if j % 3 else OtjStatus.LOGGED, "created_by_id": apprentice_id,
                "created_at": now,
            }
            for enrolment_id, apprentice_id in enrolments
            for j in range(OTJ_ENTRIES)
        ],
    )  # fmt: skip
    review_rows = [
        {
            "enrolment_id": enrolment_id, "review_date": START + timedelta(days=80 * (j + 1)),
            "attendees": "Apprentice, mentor, tutor", "progress": "On track.", "created_by_id": tutors[0].id,
            "completed_at": now if j < REVIEWS - 1 else None, "created_at": now,
        }
        for enrolment_id, _ in enrolments
        for j in range(REVIEWS)
    ]  # fmt: skip
    review_ids = s.execute(insert(ProgressReview).returning(ProgressReview.id), review_rows).scalars().all()
    s.execute(
        insert(ReviewSignature),
        [
            {"review_id": review_id, "signer": Signer.PROVIDER, "user_id": tutors[0].id, "signed_at": now}
            for review_id in review_ids
        ],
    )
    recount_all(s)  # bulk inserts bypass the flush that keeps the counts
    s.commit()
    return tutors[0].email


def sign_in(client, email: str) -> None:
    html = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = client.post("/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, "could not sign in"


def measure(engine, client, url: str, seconds: float) -> tuple[float, int]:
    """Median milliseconds per request (after one warm-up request), and the queries one request issues."""
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    response = client.get(url, buffered=True)
    event.remove(engine, "before_cursor_execute", listener)
    assert response.status_code == 200, f"{url} answered {response.status_code}"
    times = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(times) < 5:
        started = time.perf_counter()
        client.get(url, buffered=True).get_data()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), len(statements)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3, help="time each page this long (default 3)")
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: scratch SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as instance:
        url = args.database_url or f"sqlite:///{instance}/bench.db"
        app = create_app(
            {"DATABASE_URL": url, "PASSWORD_HASH_METHOD": "scrypt:1024:8:1", **THROWAWAY_KEYS}, instance_path=instance
        )
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
            engine = db.engine
            started = time.perf_counter()
            version, _ = store_standard(db.session, shipped_path("ST0396").read_text())
            tutors = {size: build(label, size, version) for label, size in (("Small", 200), ("Large", 2000))}
            if engine.dialect.name == "postgresql":
                db.session.execute(text("ANALYZE"))  # as autovacuum would soon after a bulk load
                db.session.commit()
            links = db.session.scalar(select(db.func.count()).select_from(CriterionLink))
            print(f"built {links:,} criterion links in {time.perf_counter() - started:.1f}s on {engine.dialect.name}")
        pages = {
            "first page": "/cohort",
            "sorted by coverage": "/cohort?sort=coverage",
            "sorted by OTJ pace, page 3": "/cohort?sort=otj&page=3",
            "CSV, all rows": "/cohort.csv",
        }
        results: dict[tuple[str, int], tuple[float, int]] = {}
        for size, email in tutors.items():
            client = app.test_client()
            sign_in(client, email)
            for name, page in pages.items():
                results[name, size] = measure(engine, client, page, args.seconds)
        print(f"{'page':28} {'200 enrolments':>16} {'2,000 enrolments':>18} {'ratio':>7}")
        for name in pages:
            (small, queries_small), (large, queries_large) = results[name, 200], results[name, 2000]
            print(
                f"{name:28} {small:9.1f} ms ({queries_small}q) {large:10.1f} ms ({queries_large}q) {large / small:7.2f}"
            )


if __name__ == "__main__":
    main()
