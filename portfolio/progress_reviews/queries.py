"""What the progress review pages read, each in a fixed number of queries."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from ..models import Enrolment, ProgressReview, ReviewSignature, SigningRequest


def reviews_with_signatures(session: Session, enrolment_id: int) -> list[ProgressReview]:
    """The enrolment's reviews, the latest first, each with its signatures."""
    return (
        session.scalars(
            select(ProgressReview)
            .where(ProgressReview.enrolment_id == enrolment_id)
            .options(joinedload(ProgressReview.signatures))
            .order_by(ProgressReview.review_date.desc(), ProgressReview.id.desc())
        )
        .unique()
        .all()
    )


def review_record(session: Session, review_id: int) -> ProgressReview:
    """The review read afresh with everything its record shows."""
    return session.scalars(
        select(ProgressReview)
        .where(ProgressReview.id == review_id)
        .options(
            joinedload(ProgressReview.enrolment).joinedload(Enrolment.apprentice),
            joinedload(ProgressReview.enrolment).joinedload(Enrolment.standard_version),
            joinedload(ProgressReview.created_by),
            selectinload(ProgressReview.criteria),
            selectinload(ProgressReview.signatures).joinedload(ReviewSignature.user),
            selectinload(ProgressReview.signatures).joinedload(ReviewSignature.signing_request),
            selectinload(ProgressReview.signing_requests).joinedload(SigningRequest.requested_by),
        )
        .execution_options(populate_existing=True)
    ).one()
