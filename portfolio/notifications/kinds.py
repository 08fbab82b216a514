"""The kinds of notification: what each tells, who can receive it, and how it is sent by default.

An email names the kind only (its `email_subject` and `email_line`) and links to the page: the
details, which name other people and their work, stay behind the sign-in."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ..models import Role
from ..models.notifications import Delivery

_ALL = frozenset({Role.APPRENTICE, Role.EMPLOYER, Role.TUTOR, Role.ASSESSOR, Role.ADMIN})
_PARTIES = frozenset({Role.APPRENTICE, Role.EMPLOYER, Role.TUTOR})


@dataclass(frozen=True)
class About:
    label: str  # on the settings page
    email_subject: str
    email_line: str
    roles: frozenset[Role]  # who can receive it (the settings page offers it to them)
    default: Delivery = Delivery.EMAIL_NOW


class Kind(enum.Enum):
    EVIDENCE_SUBMITTED = "evidence_submitted"
    EVIDENCE_DECIDED = "evidence_decided"
    COMMENT = "comment"
    JUDGEMENT = "judgement"
    TESTIMONY_REQUESTED = "testimony_requested"
    TESTIMONY_SIGNED = "testimony_signed"
    OTJ_QUERIED = "otj_queried"
    OTJ_APPROVED = "otj_approved"
    REVIEW_DUE = "review_due"
    REVIEW_OVERDUE = "review_overdue"
    SIGNATURE_AWAITED = "signature_awaited"
    DECLARATIONS_OUT_OF_DATE = "declarations_out_of_date"
    BEHAVIOURS_VERIFIED = "behaviours_verified"
    READY_TO_SUBMIT = "ready_to_submit"
    SUBMITTED = "submitted"
    GATEWAY_DECISION = "gateway_decision"
    ASSESSMENT_RESULT = "assessment_result"
    EXPORT_READY = "export_ready"
    EVIDENCE_WAITING = "evidence_waiting"
    OTJ_BEHIND = "otj_behind"

    @property
    def about(self) -> About:
        return ABOUT[self]

    @property
    def label(self) -> str:
        return self.about.label


ABOUT: dict[Kind, About] = {
    Kind.EVIDENCE_SUBMITTED: About(
        "Evidence submitted for review",
        "Evidence is waiting for your review",
        "An apprentice has submitted evidence for you to review.",
        frozenset({Role.TUTOR}),
    ),
    Kind.EVIDENCE_DECIDED: About(
        "Evidence accepted or referred back",
        "Your evidence has been reviewed",
        "A tutor has reviewed evidence in your portfolio.",
        frozenset({Role.APPRENTICE}),
    ),
    Kind.COMMENT: About(
        "New comments on evidence",
        "A new comment on evidence",
        "Someone has commented on evidence you follow.",
        _PARTIES,
        Delivery.DAILY_DIGEST,
    ),
    Kind.JUDGEMENT: About(
        "Criteria judged",
        "A criterion in your portfolio has been judged",
        "A tutor has recorded a judgement on your portfolio.",
        frozenset({Role.APPRENTICE}),
        Delivery.DAILY_DIGEST,
    ),
    Kind.TESTIMONY_REQUESTED: About(
        "Witness testimonies asked of you",
        "You are asked to give a witness testimony",
        "You are asked to confirm a witness testimony about an apprentice's work.",
        frozenset({Role.EMPLOYER}),
        # The request itself always comes by email, with its link to sign: in the service by default.
        Delivery.IN_APP,
    ),
    Kind.TESTIMONY_SIGNED: About(
        "Witness testimonies signed",
        "A witness testimony has been signed",
        "A witness has signed a testimony in a portfolio.",
        frozenset({Role.APPRENTICE, Role.TUTOR}),
    ),
    Kind.OTJ_QUERIED: About(
        "Off-the-job entries queried",
        "An off-the-job training entry has been queried",
        "A tutor has a question about an off-the-job training entry.",
        frozenset({Role.APPRENTICE}),
    ),
    Kind.OTJ_APPROVED: About(
        "Off-the-job entries approved",
        "Off-the-job training hours approved",
        "A tutor has approved off-the-job training hours.",
        frozenset({Role.APPRENTICE}),
        Delivery.DAILY_DIGEST,
    ),
    Kind.REVIEW_DUE: About(
        "Progress reviews due within 7 days",
        "A progress review is due soon",
        "A progress review is due within the next 7 days.",
        _PARTIES,
    ),
    Kind.REVIEW_OVERDUE: About(
        "Progress reviews overdue",
        "A progress review is overdue",
        "A progress review is overdue: reviews are due at least every 12 weeks.",
        _PARTIES,
    ),
    Kind.SIGNATURE_AWAITED: About(
        "Signatures awaited from you",
        "Your signature is awaited",
        "A record is waiting for your signature.",
        _PARTIES,
    ),
    Kind.DECLARATIONS_OUT_OF_DATE: About(
        "Gateway declarations out of date",
        "Gateway declarations need signing again",
        "The portfolio changed after the gateway declarations were signed.",
        _PARTIES,
    ),
    Kind.BEHAVIOURS_VERIFIED: About(
        "Behaviours verified by the employer",
        "The employer has verified the apprentice's behaviours",
        "The employer has confirmed, or not yet, each behaviour of the standard before the gateway to completion.",
        frozenset({Role.APPRENTICE, Role.TUTOR}),
    ),
    Kind.READY_TO_SUBMIT: About(
        "Ready to submit to the assessment organisation",
        "A portfolio is ready to submit to the assessment organisation",
        "Every check of the gateway to completion passes and every declaration is signed.",
        frozenset({Role.TUTOR}),
    ),
    Kind.SUBMITTED: About(
        "Submitted to the assessment organisation",
        "A portfolio has been submitted to the assessment organisation",
        "A portfolio has been submitted through the gateway to completion.",
        _ALL,
    ),
    Kind.GATEWAY_DECISION: About(
        "The assessment organisation's decisions",
        "The assessment organisation has decided",
        "The assessment organisation has decided the gateway to completion.",
        _PARTIES,
    ),
    Kind.ASSESSMENT_RESULT: About(
        "Apprenticeship assessment results",
        "An apprenticeship assessment result has been recorded",
        "The assessment organisation has recorded a result of the apprenticeship assessment.",
        _PARTIES,
    ),
    Kind.EXPORT_READY: About(
        "Portfolio exports ready",
        "Your portfolio export is ready",
        "The portfolio export you asked for is ready to download.",
        _ALL,
        Delivery.IN_APP,
    ),
    Kind.EVIDENCE_WAITING: About(
        "Evidence waiting for review too long",
        "Evidence has been waiting for review",
        "Evidence has been waiting for review for longer than it should.",
        frozenset({Role.TUTOR, Role.ADMIN}),
    ),
    Kind.OTJ_BEHIND: About(
        "Off-the-job training behind pace",
        "Off-the-job training is behind pace",
        "Logged off-the-job training hours are behind the planned pace.",
        _PARTIES,
    ),
}


def kinds_for(role: Role) -> list[Kind]:
    """The kinds a person of `role` can receive, in the settings page's order."""
    return [kind for kind in Kind if role in kind.about.roles]
