"""Administration: organisations, users, enrolments and standards."""

from __future__ import annotations

from flask import Blueprint, render_template

from ..access import admin_required

bp = Blueprint("admin", __name__, template_folder="templates")


@bp.route("/")
@admin_required
def index():
    return render_template("admin/index.html")


@bp.route("/organisations")
@admin_required
def organisations():
    return render_template("admin/index.html")


@bp.route("/users")
@admin_required
def users():
    return render_template("admin/index.html")


@bp.route("/enrolments")
@admin_required
def enrolments():
    return render_template("admin/index.html")


@bp.route("/standards")
@admin_required
def standards():
    return render_template("admin/index.html")
