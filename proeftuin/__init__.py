"""Proeftuin: municipalities' challenges matched with start-ups, reviewed by facilitators."""
from __future__ import annotations

import os

from flask import Flask

from proeftuin.config import Config, config_from_env

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(config: type[Config] | None = None) -> Flask:
    """Build the WSGI application.

    Args:
        config: a `Config` subclass; defaults to the one named by `PROEFTUIN_ENV`.
    """
    config = config or config_from_env()
    if not config.TESTING:
        from proeftuin.logging_setup import configure_logging

        configure_logging()
    app = Flask(
        __name__,
        template_folder=os.path.join(ROOT, "templates"),
        static_folder=os.path.join(ROOT, "static"),
        instance_path=os.environ.get("PROEFTUIN_INSTANCE_PATH") or os.path.join(ROOT, "instance"),
    )
    app.config.from_object(config)
    config.check(app.config)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        path = os.path.join(app.instance_path, "proeftuin.sqlite")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"

    from proeftuin import setup

    setup.register_extensions(app)
    setup.register_worker(app)
    setup.register_input_checks(app)
    setup.register_blueprints(app)
    setup.register_error_handlers(app)
    setup.register_template_helpers(app)
    setup.register_cli(app)
    setup.register_access_check(app)
    return app
