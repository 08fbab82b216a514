"""The fictional people and portfolios the cluster benchmarks work on, built through the domain functions.

    python benchmarks/world.py [--apprentices N] [--items K] [--large N] [--large-items 100] [--large-images 40]
                               [--bulk-mb MB] [--bulk-files 16] [--bulk-photos 4]

Run by `Cluster.setup` in the cluster's settings, on its migrated database: ST0396, a provider
(Saltmarsh Arts Training) with a tutor, an employer (Quayside Heritage Trust), N apprentices with
K submitted evidence items each (a small PDF apiece), and LARGE apprentices each with a portfolio
like export_portfolio.py's: ITEMS items with three criterion links each, IMAGES of them with a
phone photo or a screenshot, the others a PDF document, a third accepted by the tutor. With
--bulk-mb, one more apprentice holds MB of files: FILES PDFs of random bytes (made a megabyte at a
time, never held whole, so each is stored whole) and PHOTOS pictures for the PDF's previews.
Prints a JSON line per person: email, role, enrolment id (apprentices) and kind.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import BinaryIO

from cluster import PASSWORD
from export_portfolio import document, photo, text  # the files and words of its portfolio
from sqlalchemy.orm import Session

from portfolio import create_app
from portfolio.accounts.domain import create_organisation, create_user
from portfolio.core.storage import evidence_store
from portfolio.enrolments.domain import EnrolmentTerms, enrol
from portfolio.enrolments.standard_versions import store_standard
from portfolio.evidence.items import EvidenceDetails, Upload, create_item, submit
from portfolio.extensions import db
from portfolio.models import (
    AgeBand,
    Enrolment,
    EvidenceKind,
    Organisation,
    OrganisationKind,
    Role,
    StandardVersion,
    User,
)
from portfolio.review.domain import Decision, decide, start_review
from standard import shipped_path

START = date(2024, 9, 2)  # early enough that every item's activity date has passed
MAX_BYTES = 50 << 20


@dataclass
class World:
    version: StandardVersion
    provider: Organisation
    employer: Organisation
    tutor: User

    @property
    def codes(self) -> list[str]:
        return list(self.version.standard.codes)


def make_world(session: Session) -> World:
    version, _ = store_standard(session, shipped_path("ST0396").read_text())
    provider = create_organisation(session, "Saltmarsh Arts Training", OrganisationKind.PROVIDER)
    employer = create_organisation(session, "Quayside Heritage Trust", OrganisationKind.EMPLOYER)
    tutor = create_user(
        session, email="tutor@saltmarsh.example", name="Imogen Varga", role=Role.TUTOR, organisation=provider,
        password=PASSWORD,
    )  # fmt: skip
    return World(version, provider, employer, tutor)


def enrol_apprentice(session: Session, world: World, email: str, name: str) -> tuple[User, Enrolment]:
    apprentice = create_user(
        session, email=email, name=name, role=Role.APPRENTICE, organisation=world.employer, password=PASSWORD
    )
    terms = EnrolmentTerms(
        provider=world.provider, epao=None, mentor=None, tutor=world.tutor, start_date=START,
        planned_end_date=START + timedelta(days=540), planned_otj_hours=400, age_band=AgeBand.AGED_24_PLUS,
        english_maths_route="achieved",
    )  # fmt: skip
    enrolment = enrol(
        session, apprentice=apprentice, standard_version=world.version, employer=world.employer, terms=terms, by=None
    )
    session.flush()
    return apprentice, enrolment


class RandomPdf(io.RawIOBase):
    """A PDF-looking stream of `size` bytes, made a megabyte at a time (never held whole)."""

    def __init__(self, size: int, seed: int) -> None:
        self.left, self.head, self.block = size, f"%PDF-1.7\n% recording {seed}\n".encode(), os.urandom(1 << 20)

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        size = self.left if size is None or size < 0 else min(size, self.left)
        data, self.head = (self.head + self.block)[:size], b""
        self.left -= len(data)
        return data


def add_item(
    session: Session, world: World, apprentice: User, enrolment: Enrolment, details: EvidenceDetails,
    name: str, data: bytes | BinaryIO, *, accept: bool = False, max_bytes: int = MAX_BYTES,
) -> None:  # fmt: skip
    """One submitted item with one file, accepted by the tutor if `accept`; commits."""
    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    item = create_item(
        session, evidence_store(), enrolment=enrolment, author=apprentice, details=details,
        uploads=[Upload(stream, name)], max_bytes=max_bytes,
    )  # fmt: skip
    submit(item, by=apprentice)
    if accept:
        session.flush()
        start_review(session, item, by=world.tutor)
        decide(session, item, by=world.tutor, decision=Decision.ACCEPT)
    session.commit()


def small_portfolio(session: Session, world: World, apprentice: User, enrolment: Enrolment, items: int) -> None:
    rng = random.Random(enrolment.id)
    for n in range(items):
        details = EvidenceDetails(
            title=f"Family workshop plan {n + 1}", kind=EvidenceKind.EVENT_PLAN,
            activity_date=START + timedelta(days=7 * n), description=text(rng, 40), reflection=text(rng, 40),
            links={code: text(rng, 12) for code in rng.sample(world.codes, 2)},
        )  # fmt: skip
        add_item(session, world, apprentice, enrolment, details, "plan.pdf", document(rng, n)[:20_000])


def large_portfolio(
    session: Session, world: World, apprentice: User, enrolment: Enrolment, items: int, pictures: list[bytes]
) -> None:
    """export_portfolio.py's portfolio: the first len(pictures) items with a picture, the others a PDF."""
    rng = random.Random(enrolment.id)
    for n in range(items):
        if n < len(pictures):
            name, data = picture_name(n), pictures[n]
        else:
            name, data = "report.pdf", document(rng, n)
        details = EvidenceDetails(
            title=f"{text(rng, 4)[:-1]} ({n + 1})",
            kind=EvidenceKind.PHOTO_OR_VIDEO if n < len(pictures) else EvidenceKind.REPORT,
            activity_date=START + timedelta(days=3 * n), description=text(rng, 120), reflection=text(rng, 160),
            links={code: text(rng, 25) for code in rng.sample(world.codes, 3)},
        )  # fmt: skip
        add_item(session, world, apprentice, enrolment, details, name, data, accept=n % 3 == 0)


def bulk_portfolio(
    session: Session, world: World, apprentice: User, enrolment: Enrolment, total_mb: int, files: int, photos: int
) -> None:
    """`files` PDFs sharing `total_mb` MB, then `photos` pictures, an item each."""
    file_size = total_mb * 2**20 // files
    uploads: list[tuple[str, bytes | BinaryIO]] = [
        (f"recording-{n + 1}.pdf", RandomPdf(file_size, n)) for n in range(files)
    ]
    uploads += [(picture_name(n), picture) for n, picture in enumerate(pictures_of(photos))]
    for n, (name, data) in enumerate(uploads):
        details = EvidenceDetails(
            title=f"Evidence {n + 1}", kind=EvidenceKind.PHOTO_OR_VIDEO, activity_date=START + timedelta(days=n),
            links={world.codes[n % len(world.codes)]: "Shown here."},
        )  # fmt: skip
        add_item(session, world, apprentice, enrolment, details, name, data, max_bytes=max(file_size + 1, MAX_BYTES))


def picture_name(n: int) -> str:
    return "screenshot.png" if n % 4 == 3 else "photo.jpg"


def pictures_of(count: int) -> list[bytes]:
    """Photos (JPEG, 4032x3024) and, one in four, screenshots (PNG, 1920x1080), as export_portfolio.py
    makes them. Every large portfolio holds the same ones: each export still previews each of them."""
    rng = random.Random(396)
    kinds = {"photo.jpg": (4032, 3024, "JPEG"), "screenshot.png": (1920, 1080, "PNG")}
    return [photo(rng, *kinds[picture_name(n)]) for n in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--apprentices", type=int, default=0)
    parser.add_argument("--items", type=int, default=0, help="submitted items of each of those apprentices")
    parser.add_argument("--large", type=int, default=0, help="apprentices with a large portfolio")
    parser.add_argument("--large-items", type=int, default=100)
    parser.add_argument("--large-images", type=int, default=40)
    parser.add_argument("--bulk-mb", type=int, default=0, help="MB of files of one more apprentice")
    parser.add_argument("--bulk-files", type=int, default=16)
    parser.add_argument("--bulk-photos", type=int, default=4)
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        s = db.session
        world = make_world(s)
        people = [{"email": world.tutor.email, "role": "tutor"}]
        for n in range(args.apprentices):
            apprentice, enrolment = enrol_apprentice(s, world, f"apprentice{n}@quayside.example", f"Rowan Ashby {n}")
            s.commit()
            small_portfolio(s, world, apprentice, enrolment, args.items)
            people.append({"email": apprentice.email, "role": "apprentice", "enrolment": enrolment.id, "kind": "small"})
        pictures = pictures_of(args.large_images) if args.large else []
        for n in range(args.large):
            apprentice, enrolment = enrol_apprentice(s, world, f"large{n}@quayside.example", f"Amara Okoye {n}")
            s.commit()
            large_portfolio(s, world, apprentice, enrolment, args.large_items, pictures)
            people.append({"email": apprentice.email, "role": "apprentice", "enrolment": enrolment.id, "kind": "large"})
        if args.bulk_mb:
            apprentice, enrolment = enrol_apprentice(s, world, "bulk@quayside.example", "Jess Okafor")
            s.commit()
            bulk_portfolio(s, world, apprentice, enrolment, args.bulk_mb, args.bulk_files, args.bulk_photos)
            people.append({"email": apprentice.email, "role": "apprentice", "enrolment": enrolment.id, "kind": "bulk"})
        s.commit()
    for person in people:
        print(json.dumps(person), flush=True)


if __name__ == "__main__":
    main()
