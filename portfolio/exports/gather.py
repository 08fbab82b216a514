"""Everything a portfolio export shows, read in a fixed number of queries and kept as plain values.

The PDF, the manifest, the mapping CSV and the ZIP's folders are all drawn from one `Portfolio`,
so they agree with each other; nothing in it goes back to the database, so the ZIP can go on
streaming after the request's session has closed.

The portfolio is the evidence put forward for review: submitted, accepted and referred items.
Drafts are private to their author and withdrawn items no longer count, so neither is exported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from filestore import file_type
from standard import AssessmentPlan, Coverage, Signer, Standard, roll_up

from ..assessment.domain import attempts_of, plan_of
from ..core import clock
from ..core.access import SIGNER_LABELS, files_withheld
from ..core.domain import attributes
from ..core.fingerprint import portfolio_fingerprint
from ..enrolments.queries import with_everyone_named
from ..evidence.items import criterion_statuses
from ..gateway.behaviours import DECISION_LABELS, asks_for_verification, fingerprint_of_signed, verification_history
from ..gateway.domain import ITEM_TITLES, gateway_submissions
from ..models import (
    AttemptKind,
    CriterionLink,
    Enrolment,
    EnrolmentStatus,
    EvidenceItem,
    EvidenceKind,
    EvidenceStatus,
    EvidenceStatusChange,
    GatewayDeclaration,
    GatewayOutcome,
    LearningBreak,
    LinkDecision,
    ProgressReview,
    ReviewSignature,
    WitnessSignature,
)
from ..models.types import utcnow
from ..otj.domain import OtjSummary, enrolment_otj_summary
from ..progress_reviews.domain import awaiting_signers, recorded_texts
from ..review.domain import current_judgements
from ..training_plan.records import PlanRecord, ScanRecord, plan_records, scan_records
from .errors import ExportRefused
from .layout import export_name, file_names, item_folder

EXPORTED_STATUSES = (EvidenceStatus.SUBMITTED, EvidenceStatus.REFERRED, EvidenceStatus.ACCEPTED)


@dataclass(frozen=True)
class ExportFile:
    name: str  # as its uploader named it: shown, never used as a path
    media_type: str
    size: int
    sha256: str
    crc32: int | None  # None for a file stored before CRC-32s were recorded, whose bytes were not there
    uploaded_at: datetime
    path: str | None  # where it sits in the ZIP; None when the item's files are withheld

    @property
    def label(self) -> str:
        """What kind of file it is, in words ("PNG image")."""
        try:
            return file_type(self.media_type).label
        except KeyError:
            return self.media_type

    @property
    def is_image(self) -> bool:
        try:
            return file_type(self.media_type).previewable
        except KeyError:
            return False


@dataclass(frozen=True)
class ExportLink:
    code: str
    text: str  # the criterion's statement in the pinned standard
    justification: str
    decision: LinkDecision | None = None  # the reviewer's latest on this criterion
    feedback: str = ""
    decided_by: str = ""
    decided_at: datetime | None = None


@dataclass(frozen=True)
class StatusChange:
    from_status: EvidenceStatus | None
    to_status: EvidenceStatus
    by: str
    at: datetime
    note: str


@dataclass(frozen=True)
class Witness:
    name: str
    job_title: str
    signed_at: datetime


@dataclass(frozen=True)
class ExportItem:
    id: int
    number: int  # 1, 2, ... in the order of the activities' dates: how the PDF and the ZIP name it
    title: str
    kind: EvidenceKind
    activity_date: date
    status: EvidenceStatus
    description: str
    reflection: str
    author: str
    submitted_at: datetime | None
    contains_third_party_data: bool
    consent_reference: str
    files: tuple[ExportFile, ...]
    links: tuple[ExportLink, ...]
    history: tuple[StatusChange, ...]
    witness: Witness | None

    @property
    def withheld(self) -> bool:
        """Third-party data with no consent on record: the item is listed but its files are not exported."""
        return files_withheld(self)

    @property
    def codes(self) -> list[str]:
        return [link.code for link in self.links]


@dataclass(frozen=True)
class Judgement:
    code: str
    level: str
    label: str
    met: bool
    by: str
    at: datetime
    note: str


@dataclass(frozen=True)
class ReviewRecord:
    review_date: date
    record: tuple[tuple[str, str], ...]  # (label, text) of each part, in the order of the meeting
    signatures: tuple[tuple[str, str, datetime], ...]  # (party, name, when)
    awaiting: tuple[str, ...]  # the parties yet to sign

    @property
    def complete(self) -> bool:
        return not self.awaiting


@dataclass(frozen=True)
class Declaration:
    attempt: int
    signer: Signer
    by: str
    statement: str
    signed_at: datetime
    fingerprint: str
    matches_portfolio: bool  # signed on the portfolio as it is now

    @property
    def signer_label(self) -> str:
        return SIGNER_LABELS[self.signer].capitalize()


@dataclass(frozen=True)
class ItemDecision:
    item: str
    accepted: bool
    reason: str

    @property
    def label(self) -> str:
        return ITEM_TITLES.get(self.item, self.item)


@dataclass(frozen=True)
class Submission:
    number: int
    epao: str
    submitted_by: str
    submitted_at: datetime
    fingerprint: str
    outcome: GatewayOutcome
    decided_by: str | None
    decided_at: datetime | None
    note: str
    decisions: tuple[ItemDecision, ...]


@dataclass(frozen=True)
class MethodGrade:
    code: str
    name: str
    grade: str
    passed: bool
    assessed_on: date
    carried_over: bool
    note: str


@dataclass(frozen=True)
class AssessmentRecord:
    """One attempt at the apprenticeship assessment, as the assessment organisation recorded it."""

    number: int
    kind: AttemptKind
    epao: str
    grade: str
    passed: bool
    recorded_by: str
    recorded_at: datetime
    note: str
    methods: tuple[MethodGrade, ...]


@dataclass(frozen=True)
class VerifiedBehaviour:
    code: str
    statement: str  # as signed
    decision: str  # "confirmed" or "not_yet"
    note: str

    @property
    def label(self) -> str:
        return DECISION_LABELS[self.decision]


@dataclass(frozen=True)
class BehaviourVerificationRecord:
    """The employer's newest verification of the behaviours."""

    signed_by: str
    signed_at: datetime
    fingerprint: str
    intact: bool  # the fingerprint worked out afresh from the decisions stored is the one kept
    behaviours: tuple[VerifiedBehaviour, ...]
    earlier: int  # verifications signed before it, which it replaced

    @property
    def not_yet(self) -> list[str]:
        return [b.code for b in self.behaviours if b.decision != "confirmed"]


@dataclass(frozen=True)
class Portfolio:
    enrolment_id: int
    status: EnrolmentStatus
    apprentice: str
    employer: str
    provider: str
    epao: str | None
    tutor: str | None
    mentor: str | None
    start_date: date
    planned_end_date: date
    planned_otj_hours: int
    standard: Standard
    standard_hash: str
    fingerprint: str
    exported_at: datetime
    time_zone: str  # the zone the PDF shows times in (an IANA name); part of what it shows
    items: tuple[ExportItem, ...]
    judgements: Mapping[str, Judgement]
    coverage: Coverage
    otj: OtjSummary
    breaks: tuple[LearningBreak, ...]  # breaks in learning, oldest first
    reviews: tuple[ReviewRecord, ...]
    declarations: tuple[Declaration, ...]
    submissions: tuple[Submission, ...]
    assessment_plan: AssessmentPlan | None  # the standard's plan the grades come from, if it holds one
    assessments: tuple[AssessmentRecord, ...]  # every attempt at the assessment, first first
    verifies_behaviours: bool  # the standard has the employer verify the behaviours before the gateway
    behaviour_verification: BehaviourVerificationRecord | None
    skills_scans: tuple[ScanRecord, ...] = ()  # every version, the oldest first
    training_plans: tuple[PlanRecord, ...] = ()  # every version, the oldest first
    items_by_code: Mapping[str, tuple[ExportItem, ...]] = field(init=False)

    def __post_init__(self) -> None:
        by_code: dict[str, list[ExportItem]] = {code: [] for code in self.standard.codes}
        for item in self.items:
            for code in item.codes:
                by_code.setdefault(code, []).append(item)
        object.__setattr__(self, "items_by_code", {code: tuple(items) for code, items in by_code.items()})

    @property
    def file_stem(self) -> str:
        """The downloads' name without the extension, and the ZIP's top folder."""
        return export_name(self.apprentice, self.standard.reference, clock.day_of(self.exported_at))

    @property
    def files(self) -> list[tuple[ExportItem, ExportFile]]:
        """Every file of the exported items, withheld ones included, in item order."""
        return [(item, f) for item in self.items for f in item.files]


def check_exportable(enrolment: Enrolment) -> None:
    if enrolment.status is EnrolmentStatus.WITHDRAWN:
        raise ExportRefused("This apprenticeship was withdrawn, so its portfolio cannot be exported.")


def gather(session: Session, enrolment: Enrolment, *, exported_at: datetime | None = None) -> Portfolio:
    """The enrolment's portfolio as of now, in about twenty queries however much evidence it holds."""
    check_exportable(enrolment)
    enrolment = session.scalars(
        select(Enrolment).where(Enrolment.id == enrolment.id).options(*with_everyone_named(yaml=True))
    ).one()
    standard = enrolment.standard_version.standard
    fingerprint = portfolio_fingerprint(session, enrolment)
    exported_at = exported_at or utcnow()
    return Portfolio(
        enrolment_id=enrolment.id,
        status=enrolment.status,
        apprentice=enrolment.apprentice.name,
        employer=enrolment.employer.name,
        provider=enrolment.provider.name,
        epao=enrolment.epao.name if enrolment.epao else None,
        tutor=enrolment.tutor.name if enrolment.tutor else None,
        mentor=enrolment.mentor.name if enrolment.mentor else None,
        start_date=enrolment.start_date,
        planned_end_date=enrolment.planned_end_date,
        planned_otj_hours=enrolment.planned_otj_hours,
        standard=standard,
        standard_hash=enrolment.standard_version.content_hash,
        fingerprint=fingerprint,
        exported_at=exported_at,
        time_zone=clock.shown_zone().key,
        items=_items(session, enrolment, standard),
        judgements=_judgements(session, enrolment, standard),
        coverage=roll_up(standard, criterion_statuses(session, enrolment)),
        otj=enrolment_otj_summary(session, enrolment, today=clock.day_of(exported_at)),
        breaks=tuple(enrolment.breaks),  # loaded with the summary, which leaves their days out of the pace
        reviews=_reviews(session, enrolment),
        declarations=_declarations(session, enrolment, fingerprint),
        submissions=_submissions(session, enrolment),
        assessment_plan=plan_of(enrolment),
        assessments=_assessments(session, enrolment),
        verifies_behaviours=asks_for_verification(enrolment),
        behaviour_verification=_behaviour_verification(session, enrolment),
        skills_scans=scan_records(session, enrolment.id),
        training_plans=plan_records(session, enrolment.id),
    )


def _items(session: Session, enrolment: Enrolment, standard: Standard) -> tuple[ExportItem, ...]:
    """The exported items with their files, links, history and witness (five queries)."""
    items = session.scalars(
        select(EvidenceItem)
        .where(EvidenceItem.enrolment_id == enrolment.id, EvidenceItem.status.in_(EXPORTED_STATUSES))
        .options(
            joinedload(EvidenceItem.created_by),
            selectinload(EvidenceItem.files),
            selectinload(EvidenceItem.links).joinedload(CriterionLink.decided_by),
            selectinload(EvidenceItem.history).joinedload(EvidenceStatusChange.changed_by),
        )
        .order_by(EvidenceItem.activity_date, EvidenceItem.id)
    ).all()
    exported_ids = select(EvidenceItem.id).where(
        EvidenceItem.enrolment_id == enrolment.id, EvidenceItem.status.in_(EXPORTED_STATUSES)
    )
    signatures = session.scalars(select(WitnessSignature).where(WitnessSignature.item_id.in_(exported_ids))).all()
    witnesses = {w.item_id: Witness(w.signed_name, w.job_title, w.signed_at) for w in signatures}
    # A witness without an account, asked by email, wrote (or confirmed) and signed the testimony.
    authors = {w.item_id: w.signed_name for w in signatures if w.signing_request_id is not None}
    return tuple(
        _export_item(number, item, standard, witnesses.get(item.id), authors.get(item.id))
        for number, item in enumerate(items, start=1)
    )


_COPIED_ITEM_FIELDS = (
    "id",
    "title",
    "kind",
    "activity_date",
    "status",
    "description",
    "reflection",
    "submitted_at",
    "contains_third_party_data",
    "consent_reference",
)


def _export_item(
    number: int, item: EvidenceItem, standard: Standard, witness: Witness | None, author: str | None
) -> ExportItem:
    withheld = files_withheld(item)
    folder = item_folder(number, item.title)
    names = file_names(f.display_name for f in item.files)
    return ExportItem(
        **attributes(item, *_COPIED_ITEM_FIELDS),
        number=number,
        author=author or item.created_by.name,
        files=tuple(
            ExportFile(
                **attributes(f, "media_type", "size", "sha256", "crc32", "uploaded_at"),
                name=f.display_name,
                path=None if withheld else f"{folder}/{name}",
            )
            for f, name in zip(item.files, names, strict=True)
        ),
        links=tuple(
            ExportLink(
                link.criterion_code,
                _criterion_text(standard, link.criterion_code),
                link.justification,
                link.decision,
                link.feedback,
                link.decided_by.name if link.decided_by else "",
                link.decided_at,
            )
            for link in item.links
        ),
        history=tuple(
            StatusChange(change.from_status, change.to_status, change.changed_by.name, change.changed_at, change.note)
            for change in item.history
        ),
        witness=witness,
    )


def _criterion_text(standard: Standard, code: str) -> str:
    criterion = standard.criterion(code)
    return criterion.text if criterion else ""


def _judgements(session: Session, enrolment: Enrolment, standard: Standard) -> dict[str, Judgement]:
    judgements = {}
    for code, j in current_judgements(session, enrolment).items():
        level = standard.judgement_level(j.level_code)
        label = level.label if level else j.level_code
        judgements[code] = Judgement(code, j.level_code, label, j.met, j.judged_by.name, j.judged_at, j.note)
    return judgements


def _reviews(session: Session, enrolment: Enrolment) -> tuple[ReviewRecord, ...]:
    """Every progress review, oldest first, with its signatures (two queries)."""
    reviews = session.scalars(
        select(ProgressReview)
        .where(ProgressReview.enrolment_id == enrolment.id)
        .options(selectinload(ProgressReview.signatures).joinedload(ReviewSignature.user))
        .order_by(ProgressReview.review_date, ProgressReview.id)
    ).all()
    return tuple(
        ReviewRecord(
            review_date=review.review_date,
            record=tuple(recorded_texts(review)),
            signatures=tuple((SIGNER_LABELS[s.signer].capitalize(), s.name, s.signed_at) for s in review.signatures),
            awaiting=tuple(SIGNER_LABELS[signer] for signer in awaiting_signers(review)),
        )
        for review in reviews
    )


def _declarations(session: Session, enrolment: Enrolment, fingerprint: str) -> tuple[Declaration, ...]:
    """Every gateway declaration ever signed, in order (one query): the record is append-only."""
    declarations = session.scalars(
        select(GatewayDeclaration)
        .where(GatewayDeclaration.enrolment_id == enrolment.id)
        .options(joinedload(GatewayDeclaration.user))
        .order_by(GatewayDeclaration.attempt, GatewayDeclaration.signed_at, GatewayDeclaration.id)
    )
    return tuple(
        Declaration(
            attempt=d.attempt,
            signer=d.signer,
            by=d.user.name,
            statement=d.statement,
            signed_at=d.signed_at,
            fingerprint=d.fingerprint,
            matches_portfolio=d.fingerprint == fingerprint,
        )
        for d in declarations
    )


def _submissions(session: Session, enrolment: Enrolment) -> tuple[Submission, ...]:
    """Every gateway submission with the assessor's decisions (two queries)."""
    submissions = gateway_submissions(session, enrolment)
    return tuple(
        Submission(
            number=s.number,
            epao=s.epao.name,
            submitted_by=s.submitted_by.name,
            submitted_at=s.submitted_at,
            fingerprint=s.fingerprint,
            outcome=s.outcome,
            decided_by=s.decided_by.name if s.decided_by else None,
            decided_at=s.decided_at,
            note=s.note,
            decisions=tuple(ItemDecision(d.item, d.accepted, d.reason) for d in s.item_decisions),
        )
        for s in submissions
    )


def _assessments(session: Session, enrolment: Enrolment) -> tuple[AssessmentRecord, ...]:
    """Every attempt at the apprenticeship assessment with each method's grade (two queries)."""
    return tuple(
        AssessmentRecord(
            **attributes(a, "number", "kind", "grade", "passed", "recorded_at", "note"),
            epao=a.epao.name,
            recorded_by=a.recorded_by.name,
            methods=tuple(
                MethodGrade(
                    code=m.method, **attributes(m, "name", "grade", "passed", "assessed_on", "carried_over", "note")
                )
                for m in a.methods
            ),
        )
        for a in attempts_of(session, enrolment)
    )


def _behaviour_verification(session: Session, enrolment: Enrolment) -> BehaviourVerificationRecord | None:
    """The employer's newest verification of the behaviours, if any (one query)."""
    history = verification_history(session, enrolment)
    if not history:
        return None
    newest = history[-1]
    return BehaviourVerificationRecord(
        signed_by=newest.signed_by.name,
        signed_at=newest.signed_at,
        fingerprint=newest.fingerprint,
        intact=fingerprint_of_signed(newest) == newest.fingerprint,
        behaviours=tuple(
            VerifiedBehaviour(d.criterion_code, d.statement, "confirmed" if d.confirmed else "not_yet", d.note)
            for d in newest.decisions
        ),
        earlier=len(history) - 1,
    )
