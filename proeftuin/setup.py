"""The `register_*` steps of the application factory."""
from __future__ import annotations

import logging

from flask import Flask, g, render_template, request, session
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.exceptions import HTTPException, SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, ValidationError

from proeftuin import enums
from proeftuin.access import check_every_route_declares_access
from proeftuin.extensions import babel, csrf, db, limiter, login_manager, migrate, talisman

logger = logging.getLogger(__name__)

CSP = {
    "default-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def select_locale() -> str:
    supported = current_app_languages()
    if current_user and current_user.is_authenticated and current_user.locale in supported:
        return current_user.locale
    if session.get("locale") in supported:
        return session["locale"]
    return request.accept_languages.best_match(supported) or "nl"


def current_app_languages() -> tuple[str, ...]:
    from flask import current_app

    return current_app.config["LANGUAGES"]


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """WAL, foreign keys and a busy timeout on every SQLite connection."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    except Exception:  # in-memory databases keep their own journal mode
        pass
    cursor.close()


def register_extensions(app: Flask) -> None:
    if app.config.get("TRUSTED_HOSTS") is None:
        # Unknown Host / X-Forwarded-Host headers are refused with 400 (Flask 3.1 TRUSTED_HOSTS).
        from proeftuin.config import trusted_hosts

        app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config)
    if app.config["PROXY_FIX_HOPS"]:
        app.wsgi_app = ProxyFix(
            app.wsgi_app,
            x_for=app.config["PROXY_FIX_HOPS"],
            x_proto=app.config["PROXY_FIX_HOPS"],
            x_host=app.config["PROXY_FIX_HOPS"],
        )
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    talisman.init_app(
        app,
        force_https=app.config["FORCE_HTTPS"],
        strict_transport_security=app.config["FORCE_HTTPS"],
        strict_transport_security_max_age=31536000,
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        content_security_policy=CSP,
        referrer_policy="strict-origin-when-cross-origin",
        frame_options="DENY",
    )
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    from proeftuin.models import User

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        """Resolve `<id>:<session_version>`; a bumped version kills older cookies."""
        try:
            raw_id, raw_version = user_id.split(":", 1)
            user = db.session.get(User, int(raw_id))
            version = int(raw_version)
        except (ValueError, TypeError):
            return None
        if user is None or user.session_version != version or not user.active:
            return None
        return user

    @app.after_request
    def private_pages_are_not_cached(response):
        # A response that declares itself public (an organisation's logo) is the same for everyone.
        if current_user and current_user.is_authenticated and not response.cache_control.public:
            response.headers["Cache-Control"] = "no-store"
        if "index_version" in g:
            response.headers["X-Index-Version"] = str(g.index_version)
        response.vary.add("Cookie")
        return response


class BoundedIntConverter(IntegerConverter):
    """The app's `int` URL converter: an id the database can hold.

    Every `int` in a route is an id, and ids are INTEGER columns: at most 2**31 - 1 on PostgreSQL
    (2**63 - 1 would still overflow them). Larger numbers, and runs of digits too long to be one,
    do not match the route: 404, not an overflow in the query.
    """

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = None,
                 signed: bool = False) -> None:
        from proeftuin.services.listing import MAX_ID

        super().__init__(map, fixed_digits=fixed_digits, min=min, max=MAX_ID if max is None else max,
                         signed=signed)

    def to_python(self, value: str):
        if len(value.lstrip("-")) > 19:
            raise ValidationError()
        return super().to_python(value)


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(v) for v in value)
    return False


def register_input_checks(app: Flask) -> None:
    """Checks of every request's input, before the blueprints (whose rules use the `int` converter).

    - `int` in a route is bounded to what an id column can hold (`BoundedIntConverter`).
    - A NUL character anywhere in the path, the query string, a form or a JSON body is refused with
      400: PostgreSQL cannot store it in text, and no one types it.
    """
    from proeftuin.services import InvalidInput

    app.url_map.converters["int"] = BoundedIntConverter

    @app.before_request
    def refuse_nul_characters() -> None:
        found = (
            "\x00" in request.path
            or any(_holds_nul(k) or _holds_nul(v) for k, v in request.args.items(multi=True))
            or (request.method not in ("GET", "HEAD", "OPTIONS")
                and any(_holds_nul(k) or _holds_nul(v) for k, v in request.form.items(multi=True)))
            or (request.is_json and _holds_nul(request.get_json(silent=True)))
        )
        if found:
            logger.warning("input.nul_refused route=%s", request.endpoint)
            raise InvalidInput(str(_l("What you sent contains an invisible control character (NUL) that cannot "
                                      "be saved. Remove it and try again.")))


def register_worker(app: Flask) -> None:
    from proeftuin.worker import register_worker as bind

    bind(app)


def register_blueprints(app: Flask) -> None:
    from proeftuin.blueprints import (
        admin,
        applications,
        auth,
        buyer_groups,
        challenges,
        dashboard,
        experiments,
        experts,
        guidance,
        main,
        notifications,
        organisation,
        organisation_settings,
        review,
        startups,
    )

    for module in (main, auth, challenges, startups, applications, admin, review, notifications, experts,
                   dashboard, guidance, experiments, buyer_groups, organisation, organisation_settings):
        app.register_blueprint(module.bp)


def register_error_handlers(app: Flask) -> None:
    from proeftuin.services import DomainError

    def render_error(status: int, message: str | None = None):
        return render_template("errors/error.html", status=status, message=message), status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code == 429:
            logger.warning("ratelimit.hit route=%s ip=%s", request.endpoint, request.remote_addr)
        return render_error(exc.code or 500)

    @app.errorhandler(SecurityError)
    def untrusted_host(exc: SecurityError):
        """A Host header outside TRUSTED_HOSTS: no URL can be built, so no page template either."""
        logger.warning("host.refused route=%s", request.path)
        return str(_l("This request could not be handled")), 400, {"Content-Type": "text/plain; charset=utf-8"}

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        logger.warning("csrf.failure route=%s", request.endpoint)
        return render_error(400, str(_l("The form expired or was sent from elsewhere. Please try again.")))

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        """A refusal that escaped its view: rolled back; a 404 never says why (no existence oracle)."""
        db.session.rollback()
        return render_error(exc.status_code, None if exc.status_code == 404 else exc.message or None)

    @app.errorhandler(500)
    def internal_error(exc):
        db.session.rollback()
        return render_error(500)


def register_template_helpers(app: Flask) -> None:
    @app.context_processor
    def inject_helpers() -> dict:
        unread = 0
        if current_user and current_user.is_authenticated:
            from proeftuin.services.notifications import unread_count

            unread = unread_count(current_user)
        return {
            "unread_notifications": unread,
            "enums": enums,
            "current_locale": str(get_locale()),
            "languages": app.config["LANGUAGES"],
            "format_date": format_date,
            "format_datetime": format_datetime,
            "format_decimal": format_decimal,
        }

    part_labels = {
        "text": _l("Text relevance"),
        "lexical": _l("Shared words (BM25)"),
        "dense": _l("Meaning (embeddings)"),
        "searched": _l("Documents compared"),
        "themes": _l("Themes"),
        "region": _l("Region"),
        "maturity": _l("Maturity"),
        "deadline": _l("Time left to answer"),
    }

    band_labels = {"low": _l("Weak fit"), "medium": _l("Possible fit"), "high": _l("Good fit"),
                   "top": _l("Strong fit")}

    @app.template_global()
    def band_label(name: str) -> str:
        return str(band_labels.get(name, name))

    @app.template_global()
    def part_label(name: str) -> str:
        return str(part_labels.get(name, name))

    @app.template_filter("isodate")
    def isodate(value: str):
        from datetime import date

        return date.fromisoformat(value)

    @app.template_filter("euro")
    def euro(value: int | None) -> str:
        if value is None:
            return "–"
        return format_decimal(value, format="#,##0") + " €"


def register_cli(app: Flask) -> None:
    from proeftuin.cli import index_cli, matching_cli, seed_cli, users_cli, worker_command

    app.cli.add_command(users_cli)
    app.cli.add_command(seed_cli)
    app.cli.add_command(index_cli)
    app.cli.add_command(matching_cli)
    app.cli.add_command(worker_command)


def register_access_check(app: Flask) -> None:
    check_every_route_declares_access(app)
