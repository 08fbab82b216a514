"""Which role may make which state change: one table, used by the domain code and tested cell by cell."""

from __future__ import annotations

from ..models import EvidenceStatus, Role

E = EvidenceStatus

# (role, from, to): the evidence status changes each role may make. Whether the user is the
# right person (the item's author, a tutor of the apprentice's provider) is for access rules.
EVIDENCE_CHANGES: frozenset[tuple[Role, EvidenceStatus, EvidenceStatus]] = frozenset(
    {
        (Role.APPRENTICE, E.DRAFT, E.SUBMITTED),
        (Role.APPRENTICE, E.REFERRED, E.SUBMITTED),
        (Role.APPRENTICE, E.SUBMITTED, E.WITHDRAWN),
        (Role.APPRENTICE, E.REFERRED, E.WITHDRAWN),
        (Role.APPRENTICE, E.ACCEPTED, E.WITHDRAWN),
        # An employer's witness testimony goes for review when the employer signs it.
        (Role.EMPLOYER, E.DRAFT, E.SUBMITTED),
        (Role.TUTOR, E.SUBMITTED, E.ACCEPTED),
        (Role.TUTOR, E.SUBMITTED, E.REFERRED),
    }
)

# Who may record a judgement of a criterion against the standard's scale.
JUDGES: frozenset[Role] = frozenset({Role.TUTOR})


def may_change_evidence(role: Role, from_status: EvidenceStatus, to_status: EvidenceStatus) -> bool:
    return (role, from_status, to_status) in EVIDENCE_CHANGES


def may_judge(role: Role) -> bool:
    return role in JUDGES
