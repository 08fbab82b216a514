"""Jinja set-up: GOV.UK Frontend macros, form helpers and the app's filters and globals."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

from flask import Flask, current_app, url_for
from flask_wtf.csrf import generate_csrf
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from markupsafe import Markup

from filestore import accept_attribute, accepted_summary
from standard import Status

from ..models import (
    EnrolmentStatus,
    EvidenceStatus,
    ExportStatus,
    GatewayOutcome,
    OtjStatus,
    Rag,
    ReadingState,
    Role,
    ScanRating,
    SigningPurpose,
    SigningStatus,
    Standing,
)
from ..models.notifications import MailStatus
from .access import may_export
from .clock import zone_description
from .rules import enrolment_otj_minimum, funding_summary
from .wording import hours_text, long_date, time_of_day, waiting_text

SERVICE_NAME = "Apprenticeship portfolio"

# The GOV.UK tag colour of each status a page shows, written once for every page and the PDF.
TAG_COLOURS: dict[enum.Enum, str] = {
    EnrolmentStatus.ON_PROGRAMME: "blue",
    EnrolmentStatus.BREAK_IN_LEARNING: "yellow",
    EnrolmentStatus.AT_GATEWAY: "purple",
    EnrolmentStatus.IN_EPA: "turquoise",
    EnrolmentStatus.COMPLETED: "green",
    EnrolmentStatus.WITHDRAWN: "grey",
    EvidenceStatus.DRAFT: "grey",
    EvidenceStatus.SUBMITTED: "blue",
    EvidenceStatus.ACCEPTED: "green",
    EvidenceStatus.REFERRED: "orange",
    EvidenceStatus.WITHDRAWN: "grey",
    GatewayOutcome.PENDING: "blue",
    GatewayOutcome.SIGNED_OFF: "green",
    GatewayOutcome.REFERRED: "orange",
    OtjStatus.LOGGED: "blue",
    OtjStatus.APPROVED: "green",
    OtjStatus.QUERIED: "orange",
    Standing.MISSING: "grey",
    Standing.CURRENT: "green",
    Standing.STALE: "orange",
    Rag.RED: "red",
    Rag.AMBER: "yellow",
    Rag.GREEN: "green",
    Status.NONE: "grey",
    Status.EVIDENCED: "blue",
    Status.ACCEPTED: "green",
    Status.MET: "turquoise",
}

# The enums templates compare with, by their own names, so that no page spells a stored value.
TEMPLATE_ENUMS = (
    EnrolmentStatus,
    EvidenceStatus,
    ExportStatus,
    GatewayOutcome,
    MailStatus,
    OtjStatus,
    Rag,
    ReadingState,
    Role,
    ScanRating,
    SigningPurpose,
    SigningStatus,
    Standing,
)


def init_app(app: Flask) -> None:
    app.jinja_loader = ChoiceLoader(
        [
            PackageLoader("portfolio.core"),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    WTFormsHelpers(app)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.add_template_global(SERVICE_NAME, "service_name")
    app.add_template_global(Status, "coverage_status")
    for enum_class in TEMPLATE_ENUMS:
        app.add_template_global(enum_class, enum_class.__name__)
    app.add_template_global(accepted_summary(), "accepted_files")
    app.add_template_global(accept_attribute(), "accept_attribute")
    app.add_template_global(csrf_field)
    app.add_template_global(funding_summary)  # the enrolment pages' funding rules
    app.add_template_global(enrolment_otj_minimum)  # the off-the-job page's
    app.add_template_global(may_export)  # the export buttons on the enrolment's pages
    app.add_template_global(select_items)
    app.add_template_global(pagination_items)
    app.add_template_filter(tag_colour)
    app.add_template_filter(long_date)
    app.add_template_filter(time_of_day)
    app.add_template_filter(zone_description)
    app.add_template_filter(five_percent)
    app.add_template_filter(hours_text, "hours")
    app.add_template_filter(waiting_text, "waited")


def csrf_field() -> Markup:
    """A form's hidden CSRF token, if tokens are checked. Without an id (WTForms gives every
    form's the same one), so that a page with several forms stays valid HTML."""
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return Markup("")
    return Markup('<input name="csrf_token" type="hidden" value="{}">').format(generate_csrf())


def five_percent(value: float) -> int:
    """A percentage rounded to the nearest 5, for the width classes of coverage bars."""
    return int(round(value / 5) * 5)


def tag_colour(status: enum.Enum) -> str:
    """The GOV.UK tag colour of a status."""
    return TAG_COLOURS[status]


def select_items(
    options: Iterable[Any], chosen: Any, any_text: str, value: str = "value", text: str = "label"
) -> list[dict[str, Any]]:
    """The items of a GOV.UK filter select: `any_text` with no value, then each option, `chosen`
    selected. An option is a (value, text) pair or an object read by the attribute names `value`
    and `text` (an enum member's value and label by default); `chosen` may be the option itself
    or its value."""
    items: list[dict[str, Any]] = [{"value": "", "text": any_text}]
    for option in options:
        if isinstance(option, tuple):
            option_value, option_text = option
        else:
            option_value, option_text = getattr(option, value), getattr(option, text)
        items.append({"value": option_value, "text": option_text, "selected": chosen in (option, option_value)})
    return items


def pagination_items(page: Any, endpoint: str, **args: Any) -> list[dict[str, Any]]:
    """The numbered links of a GOV.UK pagination: the first, last and a few around the current
    page, with ellipses between; `args` are the page's other query arguments."""
    return [
        {"number": number, "href": url_for(endpoint, page=number, **args), "current": number == page.page}
        if number
        else {"ellipsis": True}
        for number in page.iter_pages(left_edge=1, left_current=1, right_current=2, right_edge=1)
    ]
