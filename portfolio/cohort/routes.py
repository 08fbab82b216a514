"""Cohort dashboards for tutors and employers, with CSV download."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("cohort", __name__, template_folder="templates")
