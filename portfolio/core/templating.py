"""Jinja set-up: GOV.UK Frontend macros, form helpers and the app's filters."""

from __future__ import annotations

from flask import Flask, current_app
from flask_wtf.csrf import generate_csrf
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from markupsafe import Markup

from filestore import accept_attribute, accepted_summary
from standard import Status

from .wording import hours_text, long_date

SERVICE_NAME = "Apprenticeship portfolio"


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
    app.add_template_global(accepted_summary(), "accepted_files")
    app.add_template_global(accept_attribute(), "accept_attribute")
    app.add_template_global(csrf_field)
    app.add_template_filter(long_date)
    app.add_template_filter(five_percent)
    app.add_template_filter(hours_text, "hours")


def csrf_field() -> Markup:
    """A form's hidden CSRF token, if tokens are checked. Without an id (WTForms gives every
    form's the same one), so that a page with several forms stays valid HTML."""
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return Markup("")
    return Markup('<input name="csrf_token" type="hidden" value="{}">').format(generate_csrf())


def five_percent(value: float) -> int:
    """A percentage rounded to the nearest 5, for the width classes of coverage bars."""
    return int(round(value / 5) * 5)
