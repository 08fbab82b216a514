"""How fast the apprentice's pages render with a full portfolio, against the bare layout.

    python benchmarks/page_throughput.py [--items 500] [--seconds 3]

Builds a scratch SQLite database with one apprentice holding ITEMS evidence items (each
linked to three criteria), then requests each page in a loop through the app (WSGI,
in-process) and prints requests per second, the queries each page issued, and the ratio
to a minimal page of the same app that renders only the layout (a signed-in 404).
"""

from __future__ import annotations

import argparse
import io
import re
import tempfile
import time
from datetime import date

from flask_migrate import upgrade
from sqlalchemy import event

from portfolio import create_app
from portfolio.accounts.domain import create_organisation, create_user
from portfolio.core.storage import evidence_store
from portfolio.enrolments.domain import EnrolmentTerms, enrol
from portfolio.enrolments.standard_versions import store_standard
from portfolio.evidence.items import EvidenceDetails, Upload, create_item, submit
from portfolio.extensions import db
from portfolio.models import AgeBand, EvidenceKind, OrganisationKind, Role
from standard import shipped_path

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def build(items: int) -> int:
    s = db.session
    version, _ = store_standard(s, shipped_path("ST0396").read_text())
    employer = create_organisation(s, "Bench Museum", OrganisationKind.EMPLOYER)
    provider = create_organisation(s, "Bench Training", OrganisationKind.PROVIDER)
    apprentice = create_user(
        s, email="bench@example.org", name="Bench Apprentice", role=Role.APPRENTICE, organisation=employer,
        password="benchmark password",
    )  # fmt: skip
    terms = EnrolmentTerms(
        provider=provider, epao=None, mentor=None, tutor=None, start_date=date(2025, 1, 6),
        planned_end_date=date(2026, 7, 6), planned_otj_hours=375, age_band=AgeBand.AGED_24_PLUS,
        english_maths_route="achieved",
    )  # fmt: skip
    enrolment = enrol(s, apprentice=apprentice, standard_version=version, employer=employer, terms=terms, by=None)
    codes = [c.code for c in version.standard]
    for n in range(items):
        links = {code: f"How item {n} shows {code}." for code in codes[n % 47 : n % 47 + 3]}
        details = EvidenceDetails(
            title=f"Evidence item {n}", kind=list(EvidenceKind)[n % 11], activity_date=date(2025, 3, 1),
            description="A workshop with a local school. " * 5, links=links,
        )  # fmt: skip
        uploads = [Upload(io.BytesIO(PDF + str(n).encode()), f"item-{n}.pdf")] if n % 5 == 0 else []
        item = create_item(
            s, evidence_store(), enrolment=enrolment, author=apprentice, details=details, uploads=uploads,
            max_bytes=10_000_000, today=date(2026, 1, 1),
        )  # fmt: skip
        if n % 4:
            submit(item, by=apprentice)
    s.commit()
    return enrolment.id


def measure(app, client, url: str, seconds: float) -> tuple[float, int, int]:
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", listener)
    response = client.get(url)
    event.remove(engine, "before_cursor_execute", listener)
    count, deadline, status = 0, time.perf_counter() + seconds, response.status_code
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        client.get(url)
        count += 1
    return count / (time.perf_counter() - start), len(statements), status


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as instance:
        app = create_app({"DATABASE_URL": f"sqlite:///{instance}/bench.db"}, instance_path=instance)
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
            enrolment_id = build(args.items)
        client = app.test_client()
        html = client.get("/sign-in").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
        signed_in = client.post(
            "/sign-in", data={"email": "bench@example.org", "password": "benchmark password", "csrf_token": token}
        )
        assert signed_in.status_code == 302, "could not sign in"
        baseline, _, _ = measure(app, client, "/no-such-page", args.seconds)
        print(f"{args.items} evidence items; bare layout (signed-in 404): {baseline:.0f} requests/s")
        pages = {
            "apprentice home (dashboard)": "/",
            "criteria tree": f"/enrolments/{enrolment_id}/criteria",
            "evidence library": f"/enrolments/{enrolment_id}/evidence",
        }
        for name, url in pages.items():
            rate, queries, status = measure(app, client, url, args.seconds)
            print(f"{name:30} {rate:7.0f} requests/s  {queries:2} queries  ratio {rate / baseline:.2f} (HTTP {status})")


if __name__ == "__main__":
    main()
