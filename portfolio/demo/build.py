"""`portfolio demo`: a database full of fictional people and organisations, and a server to try it."""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy import select

from standard import Signer, shipped_path

from ..accounts.domain import create_organisation, create_user, reset_password, set_active
from ..assessment.domain import MethodOutcome, record_result
from ..core import clock, logs, rules
from ..core.storage import evidence_store, max_upload_bytes
from ..enrolments.breaks import start_break
from ..enrolments.domain import EnrolmentTerms, change_status, enrol
from ..enrolments.standard_versions import store_standard
from ..evidence.items import EvidenceDetails, Upload, create_item, submit
from ..extensions import db
from ..gateway.behaviours import behaviours_of, sign_behaviour_verification
from ..gateway.domain import decide_gateway, gateway_items, sign_declaration, submit_to_epao
from ..models import (
    AgeBand,
    AttemptKind,
    Enrolment,
    EnrolmentStatus,
    EvidenceKind,
    Organisation,
    OrganisationKind,
    OtjActivity,
    Rag,
    Role,
    ScanRating,
    User,
)
from ..models.types import utcnow
from ..otj.domain import OtjDetails, approve_entry, log_entry, query_entry
from ..progress_reviews.domain import ReviewDetails, create_review, sign_review
from ..reminders.domain import ReminderSettings, send_reminders
from ..review.domain import (
    Decision,
    WitnessTestimony,
    add_comment,
    create_testimony,
    decide,
    record_judgement,
    sign_testimony,
    start_review,
)
from ..signing.domain import create_testimony_request
from ..training_plan import agreements
from ..training_plan.plan import TRAINING_PLAN, ActivityDetails, add_activity, set_english_maths_plan
from ..training_plan.skills_scan import SKILLS_SCAN, PriorLearningDetails, confirm, rate, record_prior_learning
from .files import csv_table, pdf_document, png_picture

DEFAULT_PASSWORD = "portfolio-demo-2026"

ORGANISATIONS = [
    ("Northgate Arts Training", OrganisationKind.PROVIDER),
    ("Harbourside Museum", OrganisationKind.EMPLOYER),
    ("Larkfield Playhouse", OrganisationKind.EMPLOYER),
    ("Crescent Assessment Services", OrganisationKind.EPAO),
]

USERS = [
    ("admin@northgate-arts.example", "Rosa Lindqvist", Role.ADMIN, "Northgate Arts Training"),
    ("priya.natarajan@northgate-arts.example", "Priya Natarajan", Role.TUTOR, "Northgate Arts Training"),
    ("tom.whitlock@northgate-arts.example", "Tom Whitlock", Role.TUTOR, "Northgate Arts Training"),
    ("helen.osei@harbourside-museum.example", "Helen Osei", Role.EMPLOYER, "Harbourside Museum"),
    ("gareth.lloyd@larkfield-playhouse.example", "Gareth Lloyd", Role.EMPLOYER, "Larkfield Playhouse"),
    ("marion.adebayo@crescent-assessment.example", "Marion Adebayo", Role.ASSESSOR, "Crescent Assessment Services"),
    ("amira.hassan@harbourside-museum.example", "Amira Hassan", Role.APPRENTICE, "Harbourside Museum"),
    ("jess.okafor@harbourside-museum.example", "Jess Okafor", Role.APPRENTICE, "Harbourside Museum"),
    ("callum.reid@larkfield-playhouse.example", "Callum Reid", Role.APPRENTICE, "Larkfield Playhouse"),
    ("sam.patel@larkfield-playhouse.example", "Sam Patel", Role.APPRENTICE, "Larkfield Playhouse"),
    ("nadia.rahman@larkfield-playhouse.example", "Nadia Rahman", Role.APPRENTICE, "Larkfield Playhouse"),
    ("leah.brennan@harbourside-museum.example", "Leah Brennan", Role.APPRENTICE, "Harbourside Museum"),
]
# A witness with no account, whose testimony about Callum the demo has asked for by email.
OUTSIDE_WITNESS = ("marisol.quinn@quinn-theatre-company.example", "Marisol Quinn")


@dataclass(frozen=True)
class DemoEvidence:
    title: str
    kind: EvidenceKind
    days_after_start: int
    links: dict[str, str]
    files: tuple[str, ...] = ("pdf",)  # "pdf", "png" or "csv"
    submitted: bool = True
    consent_reference: str | None = None  # set when the evidence shows other people
    description: str = ""
    reflection: str = ""


@dataclass(frozen=True)
class DemoEnrolment:
    apprentice: str
    months_ago: int
    tutor: str
    mentor: str
    age_band: AgeBand
    english_maths: str
    path: tuple[EnrolmentStatus, ...] = ()  # status changes after enrolling
    epao: str | None = None
    evidence: tuple[DemoEvidence, ...] = ()
    # "ready": the portfolio is complete and nobody has declared yet; "submitted": declared by all
    # three and submitted to the assessment organisation, awaiting the assessor; "completed": the
    # gateway to completion accepted, a first attempt failed and a resit passed.
    gateway: str | None = None

    @property
    def complete(self) -> bool:
        """The whole portfolio accepted and judged, the hours approved: ready for the gateway."""
        return self.gateway is not None


AMIRA_EVIDENCE = (
    DemoEvidence(
        "Half-term family clay workshop plan",
        EvidenceKind.EVENT_PLAN,
        30,
        {
            "K1": "I used last year's visitor survey to plan for families with under-fives.",
            "K4": "I chose a drop-in format with a quiet table so families could join at any time.",
            "S1": "The plan sets out the schedule, the artist's rider and the room bookings.",
            "S2": "The learning objectives are written for both children and their carers.",
        },
        description="Plan for three drop-in clay sessions in the Learning Studio during October half-term.",
        reflection="Booking the artist early meant we could change the format after the first session.",
    ),
    DemoEvidence(
        "Risk assessment: Victorian kitchen object handling session",
        EvidenceKind.RISK_ASSESSMENT,
        62,
        {
            "K10": "The assessment applies our safeguarding and health and safety policies.",
            "S4": "I identified the hazards of handling objects and briefed the volunteers on the controls.",
        },
        description="Risk assessment and volunteer briefing for handling sessions with a Year 3 class.",
    ),
    DemoEvidence(
        "Feedback from the Seaside Memories reminiscence sessions",
        EvidenceKind.FEEDBACK,
        140,
        {
            "K5": "I designed the feedback form and summarised the results.",
            "S14": "The summary lists three changes we made for the next series.",
            "B7": "The comments show how I adapted the pace for residents living with dementia.",
        },
        files=("csv", "pdf"),
        consent_reference="HM-CONSENT-2025-014",
        description="Feedback from residents and carers at two care homes after six reminiscence sessions.",
        reflection="Large-print forms and reading questions aloud doubled the number of responses.",
    ),
    DemoEvidence(
        "Photos from the Harbour Lights lantern parade",
        EvidenceKind.PHOTO_OR_VIDEO,
        200,
        {
            "S5": "I briefed the stewards and spoke to the crowd at the start of the parade.",
            "S9": "The parade was run with two community groups and a visiting artist.",
            "B4": "The route and timings were planned so wheelchair users could take part.",
            "B6": "I worked with the facilities team and volunteers on the night.",
        },
        files=("png", "png"),
        consent_reference="HM-PHOTO-2025-031",
        description="Photographs of the lantern-making workshops and the parade along the harbour.",
    ),
    DemoEvidence(
        "Reflection on feedback from my first school visit",
        EvidenceKind.REFLECTIVE_ACCOUNT,
        260,
        {
            "B1": "I booked a training session on behaviour management after the visit.",
            "B3": "I describe the feedback from the class teacher and what I changed.",
            "B5": "I rewrote the teachers' pack without being asked.",
        },
    ),
    DemoEvidence(
        "Budget for the spring schools programme",
        EvidenceKind.BUDGET,
        300,
        {
            "K18": "The budget links each cost to an outcome in the evaluation brief.",
            "S3": "It keeps the programme within the grant and the learning department's allocation.",
        },
        files=("csv",),
        submitted=False,
    ),
)


def _covering(rows, consent_prefix: str) -> tuple[DemoEvidence, ...]:
    """Evidence whose links together cover every criterion: (title, kind, days, codes, why, files) rows."""
    return tuple(
        DemoEvidence(
            title,
            kind,
            days,
            {code: f"This evidence shows {code}: {why}" for code in codes},
            files=files,
            consent_reference=f"{consent_prefix}-{days}" if files == ("png",) else None,
        )
        for title, kind, days, codes, why, files in rows
    )


def _certificates(days: int) -> DemoEvidence:
    """English and maths certificates, the gateway's evidence that they are achieved."""
    return DemoEvidence(
        "Level 2 Functional Skills certificates in English and maths",
        EvidenceKind.CERTIFICATE,
        days,
        {"S6": "The English certificate shows written communication at level 2."},
        description="Certificates from the awarding body for Functional Skills English and maths at level 2.",
    )


# Jess was submitted at gateway: her evidence covers every criterion of the standard.
JESS_EVIDENCE = _covering(
    [
        (
            "Audience research for the Windrush family day",
            EvidenceKind.REPORT,
            40,
            ["K1", "K2", "K3", "K4", "K5", "S2"],
            "see the research summary and the programme it shaped.",
            ("pdf",),
        ),
        (
            "Partnership agreement with Northfield Library",
            EvidenceKind.OTHER,
            90,
            ["K6", "K7", "K8", "K9", "S8", "S9", "S10"],
            "I negotiated and now manage the partnership.",
            ("pdf",),
        ),
        (
            "Safeguarding log and risk assessments for the youth panel",
            EvidenceKind.RISK_ASSESSMENT,
            150,
            ["K10", "S4", "S12", "B4"],
            "the log and assessments are mine, checked by the safeguarding lead.",
            ("pdf",),
        ),
        (
            "How my role fits the learning team",
            EvidenceKind.REFLECTIVE_ACCOUNT,
            210,
            ["K11", "K12", "K13", "K14", "K15", "K16", "B1", "B2", "B3", "B7", "B8", "B9"],
            "I reflect on it with examples from the year.",
            ("pdf",),
        ),
        (
            "Production schedule and budget for the summer festival",
            EvidenceKind.EVENT_PLAN,
            280,
            ["K17", "K18", "S1", "S3", "S11", "S13", "S17", "S18", "B5", "B6"],
            "the schedule and budget I ran the festival to.",
            ("pdf", "csv"),
        ),
        (
            "Grant application to the Harbour Community Fund",
            EvidenceKind.REPORT,
            330,
            ["K19", "K20", "S6", "S7", "S16"],
            "I wrote the application and the report to the funder.",
            ("pdf",),
        ),
        (
            "Photos and evaluation of the festival",
            EvidenceKind.PHOTO_OR_VIDEO,
            400,
            ["S5", "S14", "S15", "B10", "B11"],
            "the photos and my evaluation of the day.",
            ("png",),
        ),
    ],
    "HM-CONSENT-2024",
) + (_certificates(120),)

# Nadia's portfolio is complete too, and ready for the declarations.
NADIA_EVIDENCE = _covering(
    [
        ("Audience survey for the relaxed performances", EvidenceKind.REPORT, 35,
         ["K1", "K2", "K3", "K4", "K5", "S2"], "the survey, its findings and the season they shaped.", ("pdf",)),
        ("Schools partnership with Larkfield Academy Trust", EvidenceKind.OTHER, 80,
         ["K6", "K7", "K8", "K9", "S8", "S9", "S10"], "I set up the partnership and report on it.", ("pdf",)),
        ("Risk assessments for the backstage tours", EvidenceKind.RISK_ASSESSMENT, 130,
         ["K10", "S4", "S12", "B4"], "the assessments I wrote, signed off by the stage manager.", ("pdf",)),
        ("Reflective account: my first year in the learning team", EvidenceKind.REFLECTIVE_ACCOUNT, 200,
         ["K11", "K12", "K13", "K14", "K15", "K16", "B1", "B2", "B3", "B7", "B8", "B9"],
         "I reflect on my role with examples from the year.", ("pdf",)),
        ("Schedule and budget for the youth theatre festival", EvidenceKind.EVENT_PLAN, 260,
         ["K17", "K18", "S1", "S3", "S11", "S13", "S17", "S18", "B5", "B6"],
         "the schedule and budget I ran the festival to.", ("pdf", "csv")),
        ("Funding bid to the Larkfield Arts Trust", EvidenceKind.REPORT, 310,
         ["K19", "K20", "S6", "S7", "S16"], "I wrote the bid and the report to the trust.", ("pdf",)),
        ("Photos and evaluation of the festival week", EvidenceKind.PHOTO_OR_VIDEO, 380,
         ["S5", "S14", "S15", "B10", "B11"], "the photos and my evaluation of the week.", ("png",)),
    ],
    "LP-CONSENT-2025",
)  # fmt: skip

# Leah has completed: her portfolio covered every criterion when she went through the gateway.
LEAH_EVIDENCE = _covering(
    [
        ("Visitor research for the maritime galleries", EvidenceKind.REPORT, 45,
         ["K1", "K2", "K3", "K4", "K5", "S2"], "the visitor research and the gallery trails it shaped.", ("pdf",)),
        ("Community partnership with Quayside Primary", EvidenceKind.OTHER, 90,
         ["K6", "K7", "K8", "K9", "S8", "S9", "S10"], "the partnership agreement and my termly reports.", ("pdf",)),
        ("Risk assessments for the dockside family days", EvidenceKind.RISK_ASSESSMENT, 150,
         ["K10", "S4", "S12", "B4"], "the assessments I wrote and briefed the volunteers on.", ("pdf",)),
        ("Reflective account: learning to lead sessions", EvidenceKind.REFLECTIVE_ACCOUNT, 220,
         ["K11", "K12", "K13", "K14", "K15", "K16", "B1", "B2", "B3", "B7", "B8", "B9"],
         "I reflect on the sessions I led, with feedback from the team.", ("pdf",)),
        ("Plan and budget for the summer holiday programme", EvidenceKind.EVENT_PLAN, 280,
         ["K17", "K18", "S1", "S3", "S11", "S13", "S17", "S18", "B5", "B6"],
         "the plan and budget I ran the programme to.", ("pdf", "csv")),
        ("Report to the Harbour Heritage Fund", EvidenceKind.REPORT, 330,
         ["K19", "K20", "S6", "S7", "S16"], "I wrote the funder's report on the programme.", ("pdf",)),
        ("Photos and evaluation of the lantern workshops", EvidenceKind.PHOTO_OR_VIDEO, 400,
         ["S5", "S14", "S15", "B10", "B11"], "the photos and my evaluation of the workshops.", ("png",)),
    ],
    "HM-CONSENT-2025",
) + (_certificates(140),)  # fmt: skip

CALLUM_EVIDENCE = (
    DemoEvidence(
        "Youth theatre taster session plan",
        EvidenceKind.EVENT_PLAN,
        20,
        {
            "K1": "I planned the session for 14 to 16 year olds new to drama.",
            "S2": "The objectives are confidence and voice work.",
        },
        submitted=False,
    ),
    DemoEvidence(
        "Bookings for the relaxed performance of The Snow Queen",
        EvidenceKind.OTHER,
        45,
        {
            "K20": "I used the box office system to manage access bookings.",
            "S12": "Access requirements were recorded in line with our data protection policy.",
        },
        files=("csv",),
    ),
)

SAM_EVIDENCE = (
    DemoEvidence(
        "Script workshop with Larkfield Sixth Form",
        EvidenceKind.EVENT_PLAN,
        30,
        {"S1": "I coordinated the writer's visit.", "S6": "I presented the aims to the drama department."},
    ),
    DemoEvidence(
        "Witness statement from the sixth form's head of drama",
        EvidenceKind.WITNESS_TESTIMONY,
        60,
        {"B6": "The statement describes how I worked with the teachers.", "S9": "It describes the partnership."},
    ),
)


ENROLMENTS = [
    DemoEnrolment("amira.hassan@harbourside-museum.example", 11, "priya.natarajan@northgate-arts.example",
                  "helen.osei@harbourside-museum.example", AgeBand.AGED_19_TO_23, "achieved",
                  evidence=AMIRA_EVIDENCE),
    DemoEnrolment("jess.okafor@harbourside-museum.example", 17, "priya.natarajan@northgate-arts.example",
                  "helen.osei@harbourside-museum.example", AgeBand.AGED_16_TO_18, "achieved",
                  epao="Crescent Assessment Services", evidence=JESS_EVIDENCE, gateway="submitted"),
    DemoEnrolment("callum.reid@larkfield-playhouse.example", 4, "tom.whitlock@northgate-arts.example",
                  "gareth.lloyd@larkfield-playhouse.example", AgeBand.AGED_24_PLUS, "not_required",
                  evidence=CALLUM_EVIDENCE),
    DemoEnrolment("sam.patel@larkfield-playhouse.example", 7, "tom.whitlock@northgate-arts.example",
                  "gareth.lloyd@larkfield-playhouse.example", AgeBand.AGED_16_TO_18, "ehc_plan",
                  path=(EnrolmentStatus.BREAK_IN_LEARNING,), evidence=SAM_EVIDENCE),
    DemoEnrolment("nadia.rahman@larkfield-playhouse.example", 16, "tom.whitlock@northgate-arts.example",
                  "gareth.lloyd@larkfield-playhouse.example", AgeBand.AGED_19_TO_23, "not_required",
                  epao="Crescent Assessment Services", evidence=NADIA_EVIDENCE, gateway="ready"),
    DemoEnrolment("leah.brennan@harbourside-museum.example", 20, "priya.natarajan@northgate-arts.example",
                  "helen.osei@harbourside-museum.example", AgeBand.AGED_19_TO_23, "achieved",
                  epao="Crescent Assessment Services", evidence=LEAH_EVIDENCE, gateway="completed"),
]  # fmt: skip


@dataclass(frozen=True)
class Demo:
    users: list[User]
    witness_token: str | None  # the outside witness's link, on the run that asked her


def build_demo(password: str = DEFAULT_PASSWORD, today: date | None = None) -> Demo:
    """Create (or bring up to date) the demo data; safe to run again."""
    today = today or clock.today()
    session = db.session
    version, _ = store_standard(session, shipped_path("ST0396").read_text(encoding="utf-8"), "st0396.yaml")

    organisations = {}
    for name, kind in ORGANISATIONS:
        organisations[name] = session.scalar(select(Organisation).where(Organisation.name == name)) or (
            create_organisation(session, name, kind)
        )
    users = {}
    for email, name, role, organisation in USERS:
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            user = create_user(
                session, email=email, name=name, role=role, organisation=organisations[organisation], password=password
            )
        elif not user.check_password(password):
            reset_password(user, password)
        set_active(user, True)  # recorded in the audit trail if it was deactivated
        users[email] = user

    witness_token = None
    for plan in ENROLMENTS:
        apprentice = users[plan.apprentice]
        if session.scalar(select(Enrolment.id).where(Enrolment.apprentice_id == apprentice.id)):
            continue
        start = _months_before(today, plan.months_ago)
        end = start + timedelta(days=548)  # 18 months
        # 375 hours, or more where the funding rules of the start ask for more (before August 2025).
        minimum = rules.otj_minimum(version, start=start, planned_end=end, weekly_hours=None, prior_learning_hours=0)
        terms = EnrolmentTerms(
            provider=organisations["Northgate Arts Training"],
            epao=organisations[plan.epao] if plan.epao else None,
            mentor=users[plan.mentor],
            tutor=users[plan.tutor],
            start_date=start,
            planned_end_date=end,
            planned_otj_hours=max(375, -(-minimum.hours // 5) * 5),
            age_band=plan.age_band,
            english_maths_route=plan.english_maths,
            english_maths_decided_on=start,
            english_maths_agreed_by=f"{users[plan.mentor].name} (employer) and {apprentice.name}"
            if plan.english_maths == "not_required"
            else "",
        )
        enrolment = enrol(
            session,
            apprentice=apprentice,
            standard_version=version,
            employer=apprentice.organisation,
            terms=terms,
            by=users["admin@northgate-arts.example"],
        )
        if not apprentice.email.startswith("callum"):  # Callum's are still to do: the browser journey does them
            _agree_the_start(session, enrolment, amend=apprentice.email.startswith("amira"))
        items = [_add_evidence(session, enrolment, evidence, n, today) for n, evidence in enumerate(plan.evidence)]
        _add_reviews_and_progress(session, enrolment, plan, items, today)
        if apprentice.email.startswith("callum"):
            witness_token = _ask_outside_witness(session, enrolment, today)
        admin = users["admin@northgate-arts.example"]
        for status in plan.path:
            if status is EnrolmentStatus.BREAK_IN_LEARNING:
                start_break(
                    session, enrolment, by=admin, starts_on=today, expected_return_on=today + timedelta(days=70),
                    reason="Caring responsibilities at home for ten weeks.", today=today,
                )  # fmt: skip
            else:
                change_status(session, enrolment, status, admin, "Demo data")
        if plan.complete or apprentice.email.startswith("callum"):
            _verify_behaviours(session, enrolment, all_shown=plan.complete)
        if plan.gateway in ("submitted", "completed"):  # through the real gateway, as the three parties would
            for user in (enrolment.apprentice, enrolment.mentor, enrolment.tutor):
                sign_declaration(session, enrolment, by=user, today=today)
            submission = submit_to_epao(session, enrolment, by=enrolment.tutor, today=today)
            if plan.gateway == "completed":
                _assess(session, enrolment, submission, users["marion.adebayo@crescent-assessment.example"], today)
    session.commit()
    # What the hourly job would have told by now: reviews due and overdue, signatures awaited,
    # evidence waiting, training behind pace (each occasion once, so running the demo again adds none).
    send_reminders(session, ReminderSettings.from_config(current_app.config), today=today, now=utcnow())
    session.commit()
    return Demo(list(users.values()), witness_token)


# The training plan's activities: a share of the planned hours each, from the start in months.
PLANNED_ACTIVITIES = [
    ("Induction and collections care workshops", 0, 3, 25, "K1 K2 K10"),
    ("Audience engagement study days with the learning team", 3, 9, 35, "K3 K4 K5 S2 S5"),
    ("Project planning, budgeting and evaluation course", 9, 15, 25, "K17 K18 S1 S3 S13"),
    ("Preparing the portfolio for the gateway to completion", 15, 18, 15, "S6 B1"),
]


def _agree_the_start(session, enrolment: Enrolment, *, amend: bool) -> None:
    """The skills scan with its prior learning, then the training plan, each signed by the three on
    the first days of the programme; with `amend`, the plan is changed since and awaits signatures."""
    apprentice, mentor, tutor = enrolment.apprentice, enrolment.mentor, enrolment.tutor
    standard = enrolment.standard_version.standard
    ratings = {c.code: (ScanRating.SOME if c.code in ("K1", "K2", "S6") else ScanRating.NEW, "") for c in standard}
    ratings["K1"] = (ScanRating.CONFIDENT, "Two summers guiding visitors at a heritage railway.")
    rate(session, enrolment, by=apprentice, ratings=ratings)
    confirm(session, enrolment, by=mentor, ratings=ratings | {"K1": (ScanRating.SOME, "Guiding, not yet planning.")})
    details = PriorLearningDetails(
        hours=20, months=0, items=[("K1", "Guiding visitors at the Vale Heritage Railway, with a reference")]
    )
    scan = record_prior_learning(session, enrolment, by=tutor, details=details)
    start = datetime.combine(enrolment.start_date, datetime.min.time(), tzinfo=UTC) + timedelta(hours=10)
    for day, person in enumerate((tutor, apprentice, mentor)):
        seen = agreements.content_fingerprint(SKILLS_SCAN, scan)
        agreements.sign(session, SKILLS_SCAN, scan, by=person, seen=seen, now=start + timedelta(days=day))

    hours, first = enrolment.planned_otj_hours, enrolment.start_date
    shares = [hours * share // 100 for *_, share, _ in PLANNED_ACTIVITIES]
    shares[-1] += hours - sum(shares)  # the whole of the planned hours
    for (title, begins, ends, _, codes), share in zip(PLANNED_ACTIVITIES, shares, strict=True):
        last = min(_months_after(first, ends) - timedelta(days=1), enrolment.planned_end_date)
        details = ActivityDetails(title, _months_after(first, begins), last, Decimal(share), codes.split())
        add_activity(session, enrolment, by=tutor, details=details)
    text = "Functional Skills English and maths at level 2 in the first year, one afternoon a week."
    plan = set_english_maths_plan(session, enrolment, by=tutor, text=text)
    for day, person in enumerate((tutor, apprentice, mentor)):
        seen = agreements.content_fingerprint(TRAINING_PLAN, plan)
        agreements.sign(session, TRAINING_PLAN, plan, by=person, seen=seen, now=start + timedelta(days=3 + day))
    if amend:  # a change after signing: version 2, to be signed again
        details = ActivityDetails(
            "Volunteer management short course", _months_after(first, 10), _months_after(first, 11), Decimal(12),
            ["B6"],
        )  # fmt: skip
        add_activity(session, enrolment, by=tutor, details=details)


def _verify_behaviours(session, enrolment: Enrolment, *, all_shown: bool) -> None:
    """The employer confirms each behaviour; for an apprentice part-way through, two are not yet shown."""
    not_yet = {} if all_shown else {"B3": "Not yet seen leading a group on their own.", "B9": "Still to be shown."}
    decisions = {b.code: (b.code not in not_yet, not_yet.get(b.code, "")) for b in behaviours_of(enrolment)}
    sign_behaviour_verification(session, enrolment, by=enrolment.mentor, decisions=decisions)


def _assess(session, enrolment: Enrolment, submission, assessor: User, today: date) -> None:
    """The assessor accepts the gateway to completion; the first attempt fails one method, the resit passes."""
    items = gateway_items(enrolment.standard_version.standard)
    decide_gateway(session, submission, by=assessor, decisions={code: (True, "") for code in items})
    first, resit = today - timedelta(days=60), today - timedelta(days=14)
    record_result(
        session, enrolment, by=assessor, attempt=1, kind=AttemptKind.FIRST, grade="Fail", today=today,
        methods={"method_1": MethodOutcome("Pass", first), "method_2": MethodOutcome("Fail", first, "Overran.")},
        note="Method 2 can be resat; method 1's pass carries over.",
    )  # fmt: skip
    record_result(
        session, enrolment, by=assessor, attempt=2, kind=AttemptKind.RESIT, grade="Pass", today=today,
        methods={"method_1": MethodOutcome(None, None), "method_2": MethodOutcome("Pass", resit)},
    )  # fmt: skip


def _ask_outside_witness(session, enrolment: Enrolment, today: date) -> str:
    """Callum's mentor asks a visiting director, who has no account, for a testimony by email."""
    email, name = OUTSIDE_WITNESS
    _, token = create_testimony_request(
        session, enrolment=enrolment, by=enrolment.mentor, witness_email=email, witness_name=name,
        testimony=WitnessTestimony(
            title="Witness statement: youth theatre taster session",
            activity_date=min(enrolment.start_date + timedelta(days=20), today),
            text="",  # left for the witness to write
            links={"S2": "How Callum set the session's objectives.", "B2": "How he worked with the young people."},
        ),
    )  # fmt: skip
    return token


def _add_evidence(session, enrolment: Enrolment, plan: DemoEvidence, number: int, today: date) -> None:
    makers = {
        "pdf": lambda n: (f"{_slug(plan.title)}.pdf", pdf_document(plan.title, _pdf_paragraphs(plan))),
        "png": lambda n: (f"photo-{n + 1}.png", png_picture(320, 200, seed=number * 7 + n)),
        "csv": lambda n: (f"{_slug(plan.title)}.csv", _csv(plan)),
    }
    uploads = [Upload(io.BytesIO(data), name) for name, data in (makers[kind](n) for n, kind in enumerate(plan.files))]
    details = EvidenceDetails(
        title=plan.title,
        kind=plan.kind,
        activity_date=min(enrolment.start_date + timedelta(days=plan.days_after_start), today),
        description=plan.description or f"{plan.kind.label} from my work at {enrolment.employer.name}.",
        reflection=plan.reflection,
        contains_third_party_data=plan.consent_reference is not None,
        consent_reference=plan.consent_reference or "",
        links=plan.links,
    )
    item = create_item(
        session, evidence_store(), enrolment=enrolment, author=enrolment.apprentice, details=details,
        uploads=uploads, max_bytes=max_upload_bytes(), today=today,
    )  # fmt: skip
    if plan.submitted:
        submit(item, by=enrolment.apprentice)
    return item


# What the tutor has decided so far, by apprentice: item number -> (decision, feedback).
DECISIONS = {
    "amira.hassan@harbourside-museum.example": {
        0: (Decision.ACCEPT, "A clear plan with objectives for children and carers."),
        1: (Decision.REFER, "Please add the volunteer briefing notes and say who signed off the assessment."),
        2: (Decision.ACCEPT, ""),
    },
    "sam.patel@larkfield-playhouse.example": {0: (Decision.ACCEPT, "")},
}
JUDGEMENTS = {
    "amira.hassan@harbourside-museum.example": {
        "K1": ("met", "Audience research used well in the half-term plan."),
        "S1": ("met", "Plans, schedules and riders are complete and clear."),
        "K5": ("developing", "Evaluation methods are sound; show how results changed the programme."),
    },
}
OTJ_ACTIVITIES = [
    (OtjActivity.TAUGHT_SESSION, "Northgate Arts Training session on participatory practice."),
    (OtjActivity.SHADOWING, "Shadowed the learning manager planning the schools programme."),
    (OtjActivity.SELF_STUDY, "Read the museum's safeguarding policy and the audience development plan."),
    (OtjActivity.WRITING_EVIDENCE, "Wrote up evidence and my reflections for the portfolio."),
]


def _add_reviews_and_progress(session, enrolment: Enrolment, plan: DemoEnrolment, items, today: date) -> None:
    """Decisions, judgements, a comment, a witness testimony, months of OTJ and progress reviews."""
    apprentice, tutor, mentor = enrolment.apprentice, enrolment.tutor, enrolment.mentor
    complete = plan.complete
    decisions = DECISIONS.get(apprentice.email, {})
    if complete:  # the whole portfolio has been accepted and judged
        decisions = {n: (Decision.ACCEPT, "") for n in range(len(items))}
    for number, (decision, feedback) in decisions.items():
        item = items[number]
        start_review(session, item, by=tutor)
        if decision is Decision.REFER and len(item.links) > 1:
            # Referred for what is missing, its first criterion accepted on its own.
            first, *rest = item.codes
            criteria = {first: (Decision.ACCEPT, "")} | {code: (Decision.REFER, feedback) for code in rest}
            decide(session, item, by=tutor, criteria=criteria)
        else:
            decide(session, item, by=tutor, decision=decision, feedback=feedback)
    standard = enrolment.standard_version.standard
    judgements = JUDGEMENTS.get(apprentice.email, {})
    if complete:
        judgements = {c.code: ("met", "Shown consistently across the portfolio.") for c in standard}
    for code, (level, note) in judgements.items():
        record_judgement(session, enrolment, by=tutor, code=code, level_code=level, note=note)

    if apprentice.email == "amira.hassan@harbourside-museum.example":
        photos = items[3]
        add_comment(session, photos, by=mentor, body="Lovely photos. Could you add the attendance figures?")
        add_comment(session, photos, by=apprentice, body="Yes, 214 people walked with us. I will add the count.")
        testimony = create_testimony(
            session, enrolment=enrolment, author=mentor, today=today,
            testimony=WitnessTestimony(
                title="Witness statement: Harbour Lights lantern parade",
                activity_date=min(enrolment.start_date + timedelta(days=200), today),
                text="I watched Amira brief thirty volunteer stewards and lead the parade safely along the "
                "harbour. She kept calm when the route had to change and made sure every group could take part.",
                links={"S5": "She briefed the stewards clearly.", "B6": "She worked well with the volunteers."},
            ),
        )  # fmt: skip
        sign_testimony(session, testimony, by=mentor, signed_name=mentor.name, job_title="Head of Learning")

    # Off-the-job training: about 22 hours a month (behind pace for Callum), most approved.
    months = max(1, (today - enrolment.start_date).days // 30)
    monthly = 10 if apprentice.email.startswith("callum") else 26 if complete else 22
    for month in range(months):
        for week, (activity, learning) in enumerate(OTJ_ACTIVITIES):
            day = enrolment.start_date + timedelta(days=month * 30 + week * 7 + 2)
            if day > today:
                continue
            entry = log_entry(
                session, enrolment=enrolment, by=apprentice, today=today,
                details=OtjDetails(day, Decimal(monthly) / 4, activity, learning),
            )  # fmt: skip
            if month < months - 1 or complete:
                approve_entry(session, entry, by=tutor)
            elif week == 0:
                query_entry(session, entry, by=tutor, note="Which session was this? Please add its title.")

    # Three-way progress reviews every 12 weeks, as the rules ask; the latest may still need signatures.
    reviews = [enrolment.start_date + timedelta(weeks=12 * n) for n in range(1, 8)]
    reviews = [day for day in reviews if day <= today - timedelta(days=7)]
    if apprentice.email.startswith("callum"):
        reviews = []  # his first review is overdue
    for number, day in enumerate(reviews):
        review = create_review(
            session, enrolment=enrolment, author=tutor, today=today,
            details=ReviewDetails(
                review_date=day,
                attendees=f"{apprentice.name} (apprentice), {mentor.name} (mentor), {tutor.name} (tutor)",
                progress="Evidence is being added steadily; the plan for the next quarter is agreed.",
                otj_and_slippage="Off-the-job hours are on track with the training plan.",
                actions_since_last="The evidence agreed last time was submitted." if number else "",
                training_plan_changes="None: the plan stands.",
                concerns_and_changes="None raised; no change of circumstances.",
                wellbeing_and_support="No concerns raised.",
                actions="Submit the next two pieces of evidence before the next review.",
                criteria={"K1": (Rag.GREEN, "Well evidenced."), "S3": (Rag.AMBER, "Needs a budget example.")},
            ),
        )  # fmt: skip
        signed_at = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
        last = number == len(reviews) - 1
        signers = [(tutor, Signer.PROVIDER), (apprentice, Signer.APPRENTICE)]
        if not (last and apprentice.email.startswith("amira")):  # Amira's latest awaits her mentor
            signers.append((mentor, Signer.EMPLOYER))
        for user, signer in signers:
            sign_review(session, review, by=user, signer=signer, now=signed_at)


def _pdf_paragraphs(plan: DemoEvidence) -> list[str]:
    paragraphs = [plan.description or f"{plan.kind.label}."]
    paragraphs += [f"{code}: {why}" for code, why in plan.links.items()]
    if plan.reflection:
        paragraphs.append(f"Reflection: {plan.reflection}")
    return paragraphs


def _csv(plan: DemoEvidence) -> bytes:
    if plan.kind is EvidenceKind.BUDGET:
        rows = [["Item", "Cost (GBP)"], ["Artist fees", "1800"], ["Materials", "420"], ["Coach hire", "650"],
                ["Access support", "300"], ["Total", "3170"]]  # fmt: skip
    else:
        rows = [["Session", "Date", "Responses", "Would come again (%)"]]
        rows += [[f"Session {n}", f"2025-0{n}-1{n}", str(8 + n), str(80 + n * 2)] for n in range(1, 7)]
    return csv_table(rows)


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60]


def _months_after(day: date, months: int) -> date:
    return _months_before(day, -months)


def _months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    return date(month_index // 12, month_index % 12 + 1, min(day.day, 28))


@click.command("demo")
@click.option("--no-serve", is_flag=True, help="Only prepare the database; do not start the server.")
@click.option("--password", default=DEFAULT_PASSWORD, show_default=True, help="Password for every demo login.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@with_appcontext
def demo_command(no_serve: bool, password: str, port: int) -> None:
    """Create or upgrade the database, fill it with fictional demo data, and serve the app."""
    from ..accounts.domain import check_password_strength
    from ..core.domain import DomainError

    try:
        check_password_strength(password)
    except DomainError as error:
        raise click.BadParameter(error.message, param_hint="--password") from None
    upgrade(directory=current_app.extensions["migrate"].directory)
    demo = build_demo(password)
    users = demo.users
    click.echo("\nDemo logins (every password is the same):\n")
    click.echo(f"  {'Email':<46} {'Role':<11} Password")
    for user in users:
        click.echo(f"  {user.email:<46} {user.role.value:<11} {password}")
    click.echo(
        "\nAt the gateway to completion: Jess Okafor's portfolio awaits the assessor's decision, and Nadia "
        "Rahman's is ready for the declarations. Leah Brennan has completed: she failed one assessment "
        "method at the first attempt and passed the resit."
    )
    email, name = OUTSIDE_WITNESS
    url = f"http://127.0.0.1:{port}/"
    how = (
        f"her link, as emailed to her: {url}sign/{demo.witness_token}"
        if demo.witness_token
        else "for a new link, Gareth Lloyd sends the request again from the testimony's page"
    )
    click.echo(f"{name} ({email}), a witness with no account, is asked for a testimony about Callum Reid; {how}")
    if no_serve:
        return
    click.echo(f"\nServing the demo on {url} (press Ctrl+C to stop)\n")
    if "PORTFOLIO_LOG_FORMAT" not in os.environ:
        logs.configure_logging("text", current_app.config["LOG_LEVEL"])  # a person watches this console
    from werkzeug.serving import run_simple

    run_simple("127.0.0.1", port, current_app._get_current_object(), threaded=True)
