"""Home page, language switch and health check."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user

from proeftuin.access import ANYONE, allow
from proeftuin.extensions import db
from proeftuin.services import accounts
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


@bp.route("/healthz")
@allow(ANYONE)
def healthz():
    db.session.execute(db.text("SELECT 1"))
    return {"status": "ok"}
