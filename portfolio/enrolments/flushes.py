"""Which enrolments a flush touched: the first step of the session hooks that keep what is derived
from a portfolio (its totals, its revision) in the same transaction as the change itself."""

from __future__ import annotations

from itertools import chain

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import instance_state

from ..models import (
    AssessmentAttempt,
    BehaviourVerification,
    Enrolment,
    EvidenceItem,
    GatewaySubmission,
    ProgressReview,
)

# Rows that reach their enrolment through a parent row: the column that names the parent, and its model.
PARENTS = {
    "item_id": EvidenceItem,
    "review_id": ProgressReview,
    "submission_id": GatewaySubmission,
    "attempt_id": AssessmentAttempt,
    "verification_id": BehaviourVerification,
}


def enrolments_touched(session: Session, models: tuple[type, ...]) -> set[int]:
    """The ids of the enrolments whose rows of `models` the flush just made wrote, in an
    `after_flush` hook: the session still lists what it flushed, with keys assigned. Values are
    read from each object's loaded state, never loaded afresh (a deleted row cannot be)."""
    found: set[int] = set()
    to_look_up: dict[type, set[int]] = {}  # model -> ids of its rows, whose enrolment ids to look up
    for obj in chain(session.new, session.dirty, session.deleted):
        if not isinstance(obj, models):
            continue
        if isinstance(obj, Enrolment):
            found.add(_own_id(obj))
        elif parent := next((column for column in PARENTS if hasattr(type(obj), column)), None):
            to_look_up.setdefault(PARENTS[parent], set()).add(loaded(obj, parent))
        elif (enrolment_id := loaded(obj, "enrolment_id")) is not None:
            found.add(enrolment_id)
        else:  # expired by a commit and not reloaded since
            to_look_up.setdefault(type(obj), set()).add(_own_id(obj))
    for model, ids in to_look_up.items():
        found.update(session.connection().scalars(select(model.enrolment_id).where(model.id.in_(ids - {None}))))
    return found


def _own_id(obj: object) -> int:
    """The row's id: just assigned (a new row has no identity key until the flush is over), or its key."""
    return loaded(obj, "id") or instance_state(obj).identity[0]


def loaded(obj: object, attribute: str):
    """The attribute's value as the flush wrote it, or as it was before, without loading it."""
    state = instance_state(obj)
    if attribute in state.dict:
        return state.dict[attribute]
    return state.committed_state.get(attribute)
