"""Evidence review, comments, criterion judgements and witness testimony."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("review", __name__, template_folder="templates")
