"""Home page, language switch, health check, privacy statement and terms of use."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_login import current_user

from proeftuin.access import ANYONE, allow
from proeftuin.extensions import db
from proeftuin.services import accounts, retention
from proeftuin.services import challenges as challenge_service
from proeftuin.services.challenges import ChallengeFilters

bp = Blueprint("main", __name__)


def safe_next(target: str | None, default: str) -> str:
    """A local path to return to; anything with a scheme or host falls back to the default."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


@bp.route("/")
@allow(ANYONE)
def index():
    latest = db.paginate(challenge_service.browse_query(ChallengeFilters(status="published")),
                         page=1, per_page=6, error_out=False)
    return render_template("main/index.html", latest=latest.items, open_count=latest.total)


@bp.route("/language", methods=["POST"])
@allow(ANYONE)
def set_language():
    locale = request.form.get("locale", "")
    if locale not in current_app.config["LANGUAGES"]:
        abort(400)
    session["locale"] = locale
    if current_user.is_authenticated:
        accounts.set_locale(current_user, locale)
    return redirect(safe_next(request.form.get("next"), url_for("main.index")))


def _legal(page: str):
    """A legal text in the reader's language (each language is written out, not machine-assembled)."""
    locale = str(get_locale())
    if locale not in current_app.config["LANGUAGES"]:
        locale = "nl"
    return render_template(f"legal/{page}.html", body=f"legal/{page}_{locale}.html",
                           support=current_app.config["SUPPORT_EMAIL"], retention=retention,
                           email_hours=current_app.config["EMAIL_CHANGE_MAX_AGE"] // 3600,
                           reset_minutes=current_app.config["PASSWORD_RESET_MAX_AGE"] // 60,
                           session_hours=int(current_app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() // 3600),
                           remember_days=current_app.config["REMEMBER_COOKIE_DURATION"].days)


@bp.route("/privacy")
@allow(ANYONE)
def privacy():
    return _legal("privacy")


@bp.route("/terms")
@allow(ANYONE)
def terms():
    return _legal("terms")


@bp.route("/healthz")
@allow(ANYONE)
def healthz():
    db.session.execute(db.text("SELECT 1"))
    return {"status": "ok"}
