"""The database models, grouped by aggregate."""

from ..extensions import Base
from .account_tokens import AccountToken, LinkRequest, TokenPurpose
from .accounts import (
    Organisation,
    OrganisationKind,
    Role,
    SignInAddressAccount,
    SignInSession,
    SignInThrottle,
    User,
)
from .assessment import AssessmentAttempt, AssessmentMethodResult, AttemptKind
from .audit import AuditEvent
from .behaviour_verifications import BehaviourDecision, BehaviourVerification
from .calendar_feeds import CalendarFeed
from .enrolments import AgeBand, Enrolment, EnrolmentStatus, EnrolmentStatusChange, LearningBreak, ReviewInterval
from .evidence import (
    CriterionDecision,
    CriterionLink,
    EvidenceFile,
    EvidenceItem,
    EvidenceKind,
    EvidenceStatus,
    EvidenceStatusChange,
    LinkDecision,
)
from .exports import Export, ExportFormat, ExportStatus
from .gateway import GatewayDeclaration, GatewayItemDecision, GatewayOutcome, GatewaySubmission, Standing
from .notifications import Delivery, MailStatus, Notification, NotificationPreference, OutboxMessage
from .otj import OtjActivity, OtjEntry, OtjStatus
from .progress_reviews import ProgressReview, Rag, ReviewCriterion, ReviewSignature
from .readings import FileReading, ReadingPage, ReadingState
from .review import CriterionJudgement, EvidenceComment, WitnessSignature
from .signing_requests import SigningPurpose, SigningRequest, SigningStatus
from .standard_versions import StandardVersion
from .stored_files import StagedUpload, UnreferencedFile
from .totals import EnrolmentCoverage, EnrolmentOtjHours
from .training_plans import (
    AgreementSignature,
    PlannedActivity,
    PriorLearning,
    ScanRating,
    SkillsScan,
    SkillsScanRating,
    TrainingPlan,
)
from .types import make_text_columns_storable

# Every table's text columns, once all models are defined (a model added above is covered too).
for _table in Base.metadata.tables.values():
    make_text_columns_storable(_table)

__all__ = [
    "CriterionDecision",
    "LinkDecision",
    "FileReading",
    "ReadingPage",
    "ReadingState",
    "AccountToken",
    "AgreementSignature",
    "PlannedActivity",
    "PriorLearning",
    "ScanRating",
    "SkillsScan",
    "SkillsScanRating",
    "TrainingPlan",
    "LinkRequest",
    "TokenPurpose",
    "AssessmentAttempt",
    "AssessmentMethodResult",
    "AttemptKind",
    "AuditEvent",
    "BehaviourDecision",
    "BehaviourVerification",
    "CalendarFeed",
    "GatewayDeclaration",
    "GatewayItemDecision",
    "GatewayOutcome",
    "GatewaySubmission",
    "AgeBand",
    "CriterionJudgement",
    "EnrolmentCoverage",
    "EnrolmentOtjHours",
    "EvidenceComment",
    "Export",
    "ExportFormat",
    "ExportStatus",
    "Delivery",
    "MailStatus",
    "Notification",
    "NotificationPreference",
    "OutboxMessage",
    "OtjActivity",
    "OtjEntry",
    "OtjStatus",
    "ProgressReview",
    "Rag",
    "ReviewCriterion",
    "ReviewInterval",
    "ReviewSignature",
    "SigningPurpose",
    "SigningRequest",
    "SigningStatus",
    "WitnessSignature",
    "CriterionLink",
    "EvidenceFile",
    "EvidenceItem",
    "EvidenceKind",
    "EvidenceStatus",
    "EvidenceStatusChange",
    "Enrolment",
    "EnrolmentStatus",
    "EnrolmentStatusChange",
    "LearningBreak",
    "Organisation",
    "OrganisationKind",
    "Role",
    "SignInAddressAccount",
    "SignInSession",
    "SignInThrottle",
    "StagedUpload",
    "StandardVersion",
    "Standing",
    "UnreferencedFile",
    "User",
]
