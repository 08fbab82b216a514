"""The funding rules an enrolment follows, chosen by its start date, and the figures they give it.

The rule sets are data (`funding_rules/`, or `PORTFOLIO_FUNDING_RULES_DIR`); enrolling, the
off-the-job page, the gateway and the calendar all ask here, so that one figure has one source.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask import Flask, current_app

from funding_rules import (
    DurationException,
    OtjMinimum,
    Plan,
    RulesError,
    RuleSet,
    RuleSets,
    load_rule_sets,
    minimum_otj,
)

from ..config import BadSetting
from ..models import Enrolment, StandardVersion


def init_app(app: Flask) -> None:
    try:
        app.extensions["funding_rules"] = load_rule_sets(app.config["FUNDING_RULES_DIR"] or None)
    except RulesError as error:
        raise BadSetting(f"PORTFOLIO_FUNDING_RULES_DIR: {error}") from None


def rule_sets() -> RuleSets:
    return current_app.extensions["funding_rules"]


def rules_for(start: date) -> RuleSet:
    return rule_sets().for_start(start)


def duration_exceptions() -> list[DurationException]:
    """The reasons for a shorter duration that any rule set accepts (each checked against the
    start date's own when the enrolment is saved)."""
    found: dict[str, DurationException] = {}
    for funding in reversed(rule_sets().all):
        for exception in funding.exceptions:
            found.setdefault(exception.code, exception)
    return list(found.values())


def otj_minimum(
    version: StandardVersion,
    *,
    start: date,
    planned_end: date,
    weekly_hours: Decimal | None,
    prior_learning_hours: int,
) -> OtjMinimum:
    """The fewest off-the-job hours the rules of `start` accept, with the arithmetic in words."""
    plan = Plan(start, planned_end, version.standard.gateway.otj_minimum_hours, weekly_hours, prior_learning_hours)
    return minimum_otj(rules_for(start), plan)


def enrolment_otj_minimum(enrolment: Enrolment) -> OtjMinimum:
    return otj_minimum(
        enrolment.standard_version,
        start=enrolment.start_date,
        planned_end=enrolment.planned_end_date,
        weekly_hours=enrolment.contracted_weekly_hours,
        prior_learning_hours=enrolment.prior_learning_otj_hours,
    )


def whole_months_between(start: date, end: date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - (end.day < start.day)


def minimum_months_on_programme(enrolment: Enrolment) -> int:
    return time_on_programme(enrolment)[0]


def time_on_programme(enrolment: Enrolment) -> tuple[int, str]:
    """Months on programme before the gateway to completion, and why: the enrolment's own figure
    if set; else the rules' minimum duration (or the planned duration, under an exception the
    rules accept), or the assessment plan's, if it asks for more."""
    if enrolment.minimum_months_override is not None:
        return enrolment.minimum_months_override, "set for this apprenticeship"
    funding = rules_for(enrolment.start_date)
    months, source = funding.minimum_months, funding.name
    if exception := funding.exception(enrolment.duration_exception):
        planned = max(1, whole_months_between(enrolment.start_date, enrolment.planned_end_date))
        months, source = min(months, planned), f"{funding.name}, with the exception: {exception.label.lower()}"
    version = enrolment.standard_version
    plan = version.standard.gateway.minimum_months_on_programme
    if plan is not None and plan > months:
        return plan, f"the assessment plan of {version.reference}"
    return months, source


@dataclass(frozen=True)
class FundingSummary:
    """What an enrolment's pages say of the rules it follows, each figure with its source."""

    rules: RuleSet
    minimum_months: int
    months_source: str
    otj: OtjMinimum
    exception: DurationException | None


def funding_summary(enrolment: Enrolment) -> FundingSummary:
    funding = rules_for(enrolment.start_date)
    months, source = time_on_programme(enrolment)
    return FundingSummary(
        rules=funding,
        minimum_months=months,
        months_source=source,
        otj=enrolment_otj_minimum(enrolment),
        exception=funding.exception(enrolment.duration_exception),
    )
