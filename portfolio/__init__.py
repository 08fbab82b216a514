"""The Flask application of the apprenticeship portfolio tracker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

MIGRATIONS = str(Path(__file__).parent / "migrations")


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` in URLs: ids from 1 to the largest a database integer holds, so that a
    huge number in a URL is a 404 rather than an overflow in the database driver."""

    def __init__(self, map, **kwargs) -> None:  # noqa: A002 (werkzeug's name)
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, **kwargs)


def create_app(test_config: dict[str, Any] | None = None, instance_path: str | None = None) -> Flask:
    """Build the application; settings come from PORTFOLIO_* variables, then `test_config`."""
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)

    from .config import configure

    configure(app, test_config)
    if app.config["PROXY_FIX"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]

    from . import cli
    from .core import error_pages, jobs, logs, metrics, rules, security, storage, templating
    from .enrolments import revision as portfolio_revision
    from .enrolments import totals as enrolment_totals
    from .extensions import csrf, db, login_manager, migrate

    # First: every hook after it runs with the request's id on its log lines.
    logs.init_app(app)
    metrics.init_app(app)
    enrolment_totals.keep_totals()
    portfolio_revision.keep_revisions()

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS, render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    security.init_app(app)
    templating.init_app(app)
    error_pages.init_app(app)
    storage.init_app(app)
    rules.init_app(app)
    from .auth import tasks as auth_tasks
    from .evidence import tasks as evidence_tasks
    from .exports import tasks as export_tasks
    from .notifications import tasks as notification_tasks
    from .reminders import tasks as reminder_tasks
    from .signing import tasks as signing_tasks

    jobs.init_app(
        app,
        [
            auth_tasks.jobs,
            evidence_tasks.jobs,
            export_tasks.jobs,
            notification_tasks.jobs,
            reminder_tasks.jobs,
            signing_tasks.jobs,
        ],
    )

    app.url_map.converters["int"] = DatabaseIdConverter
    from .admin.views import bp as admin_bp
    from .assessment.views import bp as assessment_bp
    from .audit_trail.views import bp as audit_trail_bp
    from .auth.views import bp as auth_bp
    from .calendar.views import bp as calendar_bp
    from .cohort.views import bp as cohort_bp
    from .evidence.views import bp as evidence_bp
    from .exports.views import bp as exports_bp
    from .gateway.views import bp as gateway_bp
    from .home.views import bp as home_bp
    from .notifications.views import bp as notifications_bp
    from .operations.views import bp as operations_bp
    from .otj.views import bp as otj_bp
    from .progress_reviews.views import bp as progress_reviews_bp
    from .review.views import bp as review_bp
    from .signing.views import bp as signing_bp
    from .training_plan.views import bp as training_plan_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(home_bp)
    app.register_blueprint(evidence_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(otj_bp)
    app.register_blueprint(progress_reviews_bp)
    app.register_blueprint(cohort_bp)
    app.register_blueprint(exports_bp)
    app.register_blueprint(gateway_bp)
    app.register_blueprint(assessment_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(audit_trail_bp)
    app.register_blueprint(calendar_bp)
    app.register_blueprint(operations_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(signing_bp)
    app.register_blueprint(training_plan_bp)

    cli.init_app(app)
    return app
