"""How long the portfolio PDF takes for a full portfolio, against a plain document of the same content.

    python benchmarks/export_portfolio.py [--items 100] [--images 40] [--runs 3] [--output FILE] [--database-url postgresql://...]

Builds, through the domain functions (so every file goes through the evidence store), one
apprentice's portfolio of ITEMS evidence items with three criterion links each (300 links for
100 items), a third of them accepted by the tutor; IMAGES of the items carry a photo (JPEG,
4032x3024, a phone camera's size) or, one in four, a screenshot (PNG, 1920x1080), and the others
a PDF document.

Then renders, RUNS times each in turn: the app's PDF (`render_pdf`: image previews, template,
xhtml2pdf's layout and the page numbers); the same from the previews made beforehand
(`render_document`), as the reference is given them; and a plain reference: the same text of
every part, the same images at the same size and the same fonts, as one simple document of
plain headings, paragraphs and tables with no contents, bookmarks, footers or landscape pages
(`export_reference.html`), rendered by xhtml2pdf's pisaDocument directly. It prints the CPU
seconds of each (time.process_time, the fastest run), the ratios to the reference (the goal is
at most 1.5), and the pages and size of the PDFs. Last, the time of the PDF through the app
(asked for on the web, made by the queue's job, downloaded; WSGI, in-process), the queries all
that issued, and that PDF's pages and size (--output keeps it, to look at).

By default the database is a scratch SQLite file; --database-url takes an empty PostgreSQL
database instead (the script migrates it and leaves the data there).
"""

from __future__ import annotations

import argparse
import io
import math
import random
import re
import secrets
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import pypdf
from flask import render_template_string
from flask_migrate import upgrade
from PIL import Image, ImageDraw
from sqlalchemy import event
from xhtml2pdf import pisa
from xhtml2pdf.config.resources import ResourceAccessPolicy

from portfolio import create_app
from portfolio.accounts.domain import create_organisation, create_user
from portfolio.core.storage import evidence_store, max_image_pixels
from portfolio.enrolments.domain import EnrolmentTerms, enrol
from portfolio.enrolments.standard_versions import store_standard
from portfolio.evidence.items import EvidenceDetails, Upload, create_item, submit
from portfolio.exports.gather import Portfolio, gather
from portfolio.exports.pages import PORTRAIT
from portfolio.exports.pdf import MATRIX_COLUMNS, NoPreview, Preview, previews, render_document, render_pdf
from portfolio.exports.typefaces import FONT_DIR
from portfolio.extensions import db
from portfolio.models import AgeBand, Enrolment, EnrolmentStatus, EvidenceKind, OrganisationKind, Role
from portfolio.otj.domain import pace_text
from portfolio.review.domain import Decision, decide, start_review
from standard import shipped_path

# A throwaway instance: PostgreSQL runs need the keys every host of a real one shares.
THROWAWAY_KEYS = {"SECRET_KEY": secrets.token_hex(32), "AUDIT_KEY": secrets.token_hex(32)}

REFERENCE = Path(__file__).with_name("export_reference.html")
PASSWORD = "benchmark password"
START = date(2024, 9, 2)
WORDS = ["audience", "families", "workshop", "lantern", "parade", "stewards", "budget", "partners", "museum",
         "volunteers", "risk", "assessment", "feedback", "schools", "outreach", "accessible", "programme",
         "evaluation", "community", "heritage"]  # fmt: skip


def photo(rng: random.Random, width: int, height: int, kind: str) -> bytes:
    """A picture with the detail of a real one (noise and shapes), so it compresses like one."""
    noise = Image.effect_noise((width, height), 40).convert("RGB")
    tint = Image.new("RGB", (width, height), tuple(rng.randrange(40, 220) for _ in range(3)))
    image = Image.blend(noise, tint, 0.6)
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(width), rng.randrange(height)
        draw.ellipse([x, y, x + width // 6, y + height // 6], fill=tuple(rng.randrange(256) for _ in range(3)))
    out = io.BytesIO()
    image.save(out, kind, **({"quality": 88} if kind == "JPEG" else {"compress_level": 6}))
    return out.getvalue()


def document(rng: random.Random, n: int) -> bytes:
    return b"%PDF-1.7\n%" + f"document {n}\n".encode() + rng.randbytes(150_000) + b"\n%%EOF\n"


def text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def build(items: int, images: int) -> tuple[int, str]:
    """The portfolio; returns the enrolment's id and the tutor's email."""
    s = db.session
    store = evidence_store()
    rng = random.Random(396)
    version, _ = store_standard(s, shipped_path("ST0396").read_text())
    employer = create_organisation(s, "Harbourside Museum", OrganisationKind.EMPLOYER)
    provider = create_organisation(s, "Northgate Arts Training", OrganisationKind.PROVIDER)
    epao = create_organisation(s, "Crescent Assessment", OrganisationKind.EPAO)
    user = dict(password=PASSWORD)
    apprentice = create_user(s, email="apprentice@example.org", name="Amara Okoye", role=Role.APPRENTICE,
                             organisation=employer, **user)  # fmt: skip
    tutor = create_user(s, email="tutor@example.org", name="Priya Natarajan", role=Role.TUTOR,
                        organisation=provider, **user)  # fmt: skip
    terms = EnrolmentTerms(
        provider=provider, epao=epao, mentor=None, tutor=tutor, start_date=START,
        planned_end_date=START + timedelta(days=540), planned_otj_hours=375, age_band=AgeBand.AGED_19_TO_23,
        english_maths_route="achieved",
    )  # fmt: skip
    enrolment = enrol(s, apprentice=apprentice, standard_version=version, employer=employer, terms=terms, by=None)
    codes = list(version.standard.codes)
    for n in range(items):
        if n < images:
            name, data = ("screenshot.png", photo(rng, 1920, 1080, "PNG")) if n % 4 == 3 else (
                "photo.jpg", photo(rng, 4032, 3024, "JPEG"))  # fmt: skip
        else:
            name, data = "report.pdf", document(rng, n)
        details = EvidenceDetails(
            title=f"{text(rng, 4)[:-1]} ({n + 1})",
            kind=EvidenceKind.PHOTO_OR_VIDEO if n < images else EvidenceKind.REPORT,
            activity_date=START + timedelta(days=3 * n),
            description=text(rng, 120),
            reflection=text(rng, 160),
            links={code: text(rng, 25) for code in rng.sample(codes, 3)},
        )
        uploads = [Upload(io.BytesIO(data), name)]
        item = create_item(
            s, store, enrolment=enrolment, author=apprentice, details=details, uploads=uploads, max_bytes=50 << 20
        )
        submit(item, by=apprentice)
        if n % 3 == 0:
            s.flush()
            start_review(s, item, by=tutor)
            decide(s, item, by=tutor, decision=Decision.ACCEPT)
        s.commit()
    enrolment.status = EnrolmentStatus.AT_GATEWAY
    s.commit()
    return enrolment.id, tutor.email


def sign_in(client, email: str) -> None:
    html = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = client.post("/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, "could not sign in"


def export_through_app(client, enrolment_id: int) -> bytes:
    """Ask for the PDF as the enrolment page's button does, let the queue make it, and download it."""
    page = client.get(f"/enrolments/{enrolment_id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    asked = client.post(f"/enrolments/{enrolment_id}/exports/pdf", data={"csrf_token": token})
    assert asked.status_code == 303, asked.status_code
    client.application.extensions["queue"].work(until_empty=True)
    shown = client.get(asked.headers["Location"]).get_data(as_text=True)
    download = client.get(re.search(r'href="([^"]+/download)"', shown).group(1), buffered=True)
    assert download.status_code == 200, download.status_code
    return download.get_data()


def timed(action):
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def reference_html(portfolio: Portfolio, shown: dict[str, Preview | NoPreview]) -> str:
    """The plain reference document of the portfolio, with the app's image previews."""
    return render_template_string(
        REFERENCE.read_text(), portfolio=portfolio, previews=shown, columns=MATRIX_COLUMNS,
        otj_pace=pace_text(portfolio.otj), font_dir=FONT_DIR, margin=PORTRAIT.margin,
    )  # fmt: skip


def render_reference(html: str) -> bytes:
    out = io.BytesIO()
    policy = ResourceAccessPolicy(allow_remote=False, base_dir=FONT_DIR)
    result = pisa.pisaDocument(html, dest=out, encoding="utf-8", resource_policy=policy)
    assert not result.err, "the reference could not be rendered"
    return out.getvalue()


def fastest(actions: dict, runs: int) -> dict:
    """{name: (result, CPU seconds of its fastest run)}, running the actions in turn, so that each
    meets the machine in the same state."""
    results = {name: (None, math.inf) for name in actions}
    for _ in range(runs):
        for name, action in actions.items():
            started = time.process_time()
            result = action()
            seconds = time.process_time() - started
            results[name] = (result, min(seconds, results[name][1]))
    return results


def describe(pdf: bytes) -> str:
    return f"{len(pypdf.PdfReader(io.BytesIO(pdf)).pages)} pages, {len(pdf) / 1e6:.2f} MB"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3, help="renders of each PDF; the fastest counts")
    parser.add_argument("--output", help="write the PDF to this file")
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: scratch SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as instance:
        url = args.database_url or f"sqlite:///{instance}/bench.db"
        app = create_app(
            {"DATABASE_URL": url, "PASSWORD_HASH_METHOD": "scrypt:1024:8:1", **THROWAWAY_KEYS}, instance_path=instance
        )
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
            (enrolment_id, email), seconds = timed(lambda: build(args.items, args.images))
            print(f"built {args.items} items ({args.images} with images) in {seconds:.1f}s on {db.engine.dialect.name}")
            enrolment = db.session.get(Enrolment, enrolment_id)
            portfolio, gathering = timed(lambda: gather(db.session, enrolment))
            links = sum(len(item.links) for item in portfolio.items)
            store = evidence_store()
            started = time.process_time()
            shown = previews(portfolio, store, max_image_pixels())
            previewing = time.process_time() - started
            html = reference_html(portfolio, shown)
            renders = {
                "app": lambda: render_pdf(portfolio, store),
                "document": lambda: render_document(portfolio, shown),
                "reference": lambda: render_reference(html),
            }
            figures = fastest(renders, args.runs)
            engine = db.engine
        client = app.test_client()
        sign_in(client, email)
        statements: list[str] = []
        listener = lambda *a: statements.append(a[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        with app.app_context():
            pdf, total = timed(lambda: export_through_app(client, enrolment_id))
        event.remove(engine, "before_cursor_execute", listener)
        if args.output:
            Path(args.output).write_bytes(pdf)
    (app_pdf, app_cpu), (_, document_cpu), (reference_pdf, reference_cpu) = figures.values()
    print(f"portfolio: {len(portfolio.items)} items, {links} criterion links, {args.images} images")
    print(f"gathering: {gathering:.2f} s; image previews alone: {previewing:.2f} s CPU")
    print(f"CPU seconds, the fastest of {args.runs} runs:")
    print(f"  app PDF (render_pdf)                        {app_cpu:5.2f} s  {describe(app_pdf)}")
    print(f"  app PDF from the previews (render_document) {document_cpu:5.2f} s")
    print(f"  plain reference (pisaDocument)              {reference_cpu:5.2f} s  {describe(reference_pdf)}")
    print(f"app / reference: {app_cpu / reference_cpu:.2f}; from the previews: {document_cpu / reference_cpu:.2f}"
          " (goal: at most 1.5)")  # fmt: skip
    print(f"PDF through the app: {total:.1f} s, {len(statements)} queries, {describe(pdf)}")


if __name__ == "__main__":
    main()
