"""The database models, grouped by aggregate."""

from .accounts import Organisation, OrganisationKind, Role, SignInAttempt, User
from .enrolments import AgeBand, Enrolment, EnrolmentStatus, EnrolmentStatusChange
from .evidence import CriterionLink, EvidenceFile, EvidenceItem, EvidenceKind, EvidenceStatus, EvidenceStatusChange
from .standard_versions import StandardVersion

__all__ = [
    "AgeBand",
    "CriterionLink",
    "EvidenceFile",
    "EvidenceItem",
    "EvidenceKind",
    "EvidenceStatus",
    "EvidenceStatusChange",
    "Enrolment",
    "EnrolmentStatus",
    "EnrolmentStatusChange",
    "Organisation",
    "OrganisationKind",
    "Role",
    "SignInAttempt",
    "StandardVersion",
    "User",
]
