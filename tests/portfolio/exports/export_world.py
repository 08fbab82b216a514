"""A portfolio worth exporting: an apprentice at gateway with evidence of every kind of file,
judgements, off-the-job training, a signed progress review, declarations and a submission."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from PIL import Image, ImageDraw

from portfolio.core.fingerprint import portfolio_fingerprint
from portfolio.extensions import db
from portfolio.models import (
    CriterionJudgement,
    Enrolment,
    EnrolmentStatus,
    EvidenceItem,
    GatewayDeclaration,
    GatewayItemDecision,
    GatewayOutcome,
    GatewaySubmission,
    OtjActivity,
    OtjEntry,
    OtjStatus,
    ProgressReview,
    ReviewSignature,
    Role,
    User,
)
from standard import Signer
from tests.helpers import PDF_BYTES, World


def photo(width: int = 640, height: int = 480, kind: str = "PNG", colour=(40, 110, 160)) -> bytes:
    """A real image with something drawn on it, so a preview shows more than a flat colour."""
    image = Image.new("RGB", (width, height), colour)
    draw = ImageDraw.Draw(image)
    for n in range(0, width, 40):
        draw.line([(n, 0), (width - n, height)], fill=(240, 200, 60), width=6)
    draw.ellipse([width // 4, height // 4, 3 * width // 4, 3 * height // 4], outline="white", width=10)
    out = io.BytesIO()
    image.save(out, kind)
    return out.getvalue()


@dataclass
class ExportWorld:
    enrolment: Enrolment
    apprentice: User
    tutor: User
    mentor: User
    assessor: User
    plan: EvidenceItem  # a PDF and an image, two files with the same name
    photos: EvidenceItem  # third-party data without consent: its files are withheld
    budget: EvidenceItem  # third-party data with consent: exported


def build(world: World, *, status: EnrolmentStatus = EnrolmentStatus.AT_GATEWAY) -> ExportWorld:
    provider = world.provider("Northgate Arts Training")
    epao = world.epao("Crescent Assessment")
    museum = world.employer("Harbourside Museum")
    tutor = world.user(Role.TUTOR, provider, name="Priya Natarajan")
    mentor = world.user(Role.EMPLOYER, museum, name="Gareth Evans")
    assessor = world.user(Role.ASSESSOR, epao, name="Helen Okafor")
    apprentice = world.user(Role.APPRENTICE, museum, name="Zoë O’Brien-Łukasz")
    enrolment = world.enrolment(
        apprentice=apprentice, employer=museum, provider=provider, epao=epao, tutor=tutor, mentor=mentor,
        start=date(2024, 9, 2),
    )  # fmt: skip
    plan = world.evidence(
        enrolment,
        title="Community workshop plan: “Lanterns & Light”",
        links={"K1": "Audience research for the families.", "S4": '=HYPERLINK("http://x") risk assessment'},
        files={"plan.pdf": PDF_BYTES, "Plan.PDF": PDF_BYTES + b"%second\n", "stall.png": photo()},
        activity_date=date(2024, 10, 14),
    )
    photos = world.evidence(
        enrolment,
        title="Photos of the lantern parade",
        links={"S5": "Briefing the stewards."},
        files={"parade.jpg": photo(800, 600, "JPEG", (160, 60, 40))},
        activity_date=date(2024, 11, 2),
    )
    photos.contains_third_party_data = True
    budget = world.evidence(
        enrolment,
        title="Workshop budget",
        links={"S11": "Tracking spend against the grant.", "K1": "Costs of reaching new audiences."},
        files={"budget.pdf": PDF_BYTES + b"%budget\n"},
        activity_date=date(2024, 12, 1),
    )
    budget.contains_third_party_data = True
    budget.consent_reference = "CONSENT-2024-17"
    world.evidence(enrolment, title="Private draft", submitted=False, files={"draft.pdf": PDF_BYTES + b"%d\n"})
    db.session.add_all(
        [
            CriterionJudgement(
                enrolment=enrolment, criterion_code="K1", level_code="met", met=True, note="Clear.", judged_by=tutor
            ),
            OtjEntry(
                enrolment=enrolment, activity_date=date(2024, 9, 20), hours=Decimal("6.5"),
                activity=OtjActivity.WORKSHOP, learning="Safeguarding training.", created_by=apprentice,
                status=OtjStatus.APPROVED,
            ),
        ]
    )  # fmt: skip
    review = ProgressReview(
        enrolment=enrolment, review_date=date(2024, 12, 2), attendees="Zoë, Gareth, Priya",
        progress="On track with the lantern project.", actions="Plan the spring workshop.", created_by=tutor,
    )  # fmt: skip
    review.signatures = [
        ReviewSignature(signer=Signer.APPRENTICE, user=apprentice),
        ReviewSignature(signer=Signer.EMPLOYER, user=mentor),
    ]
    db.session.add(review)
    db.session.flush()
    fingerprint = portfolio_fingerprint(db.session, enrolment)
    signed = datetime(2025, 9, 1, 10, 30, tzinfo=UTC)
    db.session.add_all(
        [
            GatewayDeclaration(
                enrolment=enrolment, attempt=1, signer=Signer.APPRENTICE, user=apprentice,
                statement="I am ready.", fingerprint="0" * 64, signed_at=signed,
            ),
            GatewayDeclaration(
                enrolment=enrolment, attempt=1, signer=Signer.EMPLOYER, user=mentor,
                statement="The apprentice is ready.", fingerprint=fingerprint, signed_at=signed,
            ),
        ]
    )  # fmt: skip
    submission = GatewaySubmission(
        enrolment=enrolment, number=1, epao=epao, fingerprint=fingerprint, submitted_by=tutor, submitted_at=signed,
        outcome=GatewayOutcome.REFERRED, decided_by=assessor, decided_at=signed, note="English certificate missing.",
    )  # fmt: skip
    submission.item_decisions = [
        GatewayItemDecision(item="english_maths", accepted=False, reason="No certificate uploaded."),
        GatewayItemDecision(item="otj_hours", accepted=True, reason=""),
    ]
    db.session.add(submission)
    enrolment.status = status
    db.session.commit()
    return ExportWorld(enrolment, apprentice, tutor, mentor, assessor, plan, photos, budget)
