"""Off-the-job training log and three-way progress reviews."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("progress", __name__, template_folder="templates")
