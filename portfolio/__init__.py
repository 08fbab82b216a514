"""The Flask application of the apprenticeship portfolio tracker."""

from __future__ import annotations

from typing import Any

from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application; settings come from PORTFOLIO_* variables, then `test_config`."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(SECRET_KEY="dev")
    app.config.from_prefixed_env("PORTFOLIO")
    if test_config:
        app.config.update(test_config)

    from . import cli

    cli.init_app(app)
    return app
