"""Challenges: browse and read (everyone), write and manage (the owning municipality)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from proeftuin import policy
from proeftuin.access import ANYONE, STAFF, allow
from proeftuin.blueprints.challenge_forms import ApplyForm, ChallengeForm, StatusForm
from proeftuin.blueprints.errors import domain_errors
from proeftuin.blueprints.matching_support import (
    described_results,
    search_rate_limit,
    semantic_results,
    with_bands,
)
from proeftuin.enums import ChallengeStatus, Role
from proeftuin.extensions import db, limiter
from proeftuin.services import Conflict, InvalidInput
from proeftuin.services import applications as application_service
from proeftuin.services import challenges as challenge_service
from proeftuin.services import suggestions as suggestion_service
from proeftuin.services.challenges import ChallengeFilters
from proeftuin.services.listing import page_args

bp = Blueprint("challenges", __name__, url_prefix="/challenges")

STATUS_MESSAGES = {
    "publish": _l("The challenge is published."),
    "close": _l("The challenge is closed for new applications."),
    "reopen": _l("The challenge is open again."),
    "archive": _l("The challenge is archived."),
}


def _page_args() -> tuple[int, int]:
    try:
        return page_args(request.args, current_app.config["PER_PAGE"], current_app.config["MAX_PER_PAGE"])
    except InvalidInput:
        abort(400)


@bp.route("/")
@allow(ANYONE)
@limiter.limit(search_rate_limit, exempt_when=lambda: not request.args.get("describe"))
def index():
    try:
        filters = ChallengeFilters.from_args(request.args)
    except InvalidInput:
        abort(400)
    page, per_page = _page_args()
    describe = request.args.get("describe", "").strip()[:1000]
    if describe:
        results, unavailable, no_match = described_results(
            lambda: with_bands(suggestion_service.search_challenges(current_user, describe, str(get_locale()),
                                                                    filters))
        )
        return render_template(
            "challenges/index.html", pagination=None, results=results, unavailable=unavailable, no_match=no_match,
            describe=describe, filters=filters, details=policy.is_staff(current_user),
            municipalities=challenge_service.municipalities_with_challenges(),
            provinces=challenge_service.provinces(),
        )
    pagination = db.paginate(challenge_service.browse_query(filters), page=page, per_page=per_page, error_out=False)
    return render_template(
        "challenges/index.html",
        pagination=pagination,
        describe="",
        filters=filters,
        municipalities=challenge_service.municipalities_with_challenges(),
        provinces=challenge_service.provinces(),
    )


@bp.route("/mine")
@allow(Role.MUNICIPALITY)
def mine():
    page, per_page = _page_args()
    pagination = db.paginate(challenge_service.owned_query(current_user), page=page, per_page=per_page, error_out=False)
    return render_template("challenges/mine.html", pagination=pagination)


@bp.route("/<int:challenge_id>")
@allow(ANYONE)
def detail(challenge_id: int):
    challenge = challenge_service.get_visible(current_user, challenge_id)
    own_application = (
        application_service.existing_for(current_user, challenge.id)
        if current_user.is_authenticated else None
    )
    return render_template(
        "challenges/detail.html",
        challenge=challenge,
        is_owner=policy.owns_challenge(current_user, challenge),
        can_change=policy.may_change_challenge(current_user, challenge),
        own_application=own_application,
        accepts_applications=challenge.accepts_applications(date.today()),
        status_form=StatusForm(),
    )


@bp.route("/new", methods=["GET", "POST"])
@allow(Role.MUNICIPALITY)
def create():
    form = ChallengeForm()
    if not form.is_submitted():
        form.language.data = "nl"
        form.procurement_route.data = "undecided"
    if form.validate_on_submit():
        with domain_errors(form) as outcome:
            challenge = challenge_service.create(current_user, form.to_data())
        if outcome.ok:
            flash(_("The challenge is saved as a draft. Publish it when it is ready."), "success")
            return redirect(url_for("challenges.detail", challenge_id=challenge.id))
    return render_template("challenges/form.html", form=form, challenge=None)


@bp.route("/<int:challenge_id>/edit", methods=["GET", "POST"])
@allow(Role.MUNICIPALITY)
def edit(challenge_id: int):
    challenge = challenge_service.get_changeable(current_user, challenge_id)
    form = ChallengeForm.for_challenge(challenge)
    if form.validate_on_submit():
        with domain_errors(form) as outcome:
            challenge = challenge_service.update(current_user, challenge_id, form.to_data())
        if outcome.ok:
            flash(_("Your changes are saved."), "success")
            return redirect(url_for("challenges.detail", challenge_id=challenge_id))
    return render_template("challenges/form.html", form=form, challenge=challenge)


@bp.route("/<int:challenge_id>/status", methods=["POST"])
@allow(Role.MUNICIPALITY)
def change_status(challenge_id: int):
    form = StatusForm()
    if not form.validate_on_submit() or form.action.data not in STATUS_MESSAGES:
        abort(400)
    with domain_errors() as outcome:
        challenge = challenge_service.transition(current_user, challenge_id, form.action.data)
    if outcome.ok:
        if form.action.data in ("publish", "reopen") and not challenge_service.is_public(challenge):
            flash(_("The challenge is published, but stays hidden from start-ups until your municipality "
                    "is verified by the support point."), "info")
        else:
            flash(str(STATUS_MESSAGES[form.action.data]), "success")
    return redirect(url_for("challenges.detail", challenge_id=challenge_id))


@bp.route("/<int:challenge_id>/applications")
@allow(Role.MUNICIPALITY, *STAFF)
def applications(challenge_id: int):
    query = application_service.for_challenge_query(current_user, challenge_id)
    challenge = challenge_service.get_visible(current_user, challenge_id)
    return render_template(
        "challenges/applications.html",
        challenge=challenge,
        applications=db.session.scalars(query).all(),
    )


@bp.route("/<int:challenge_id>/apply", methods=["GET", "POST"])
@allow(Role.STARTUP)
def apply(challenge_id: int):
    challenge = challenge_service.get_visible(current_user, challenge_id)
    existing = application_service.existing_for(current_user, challenge_id)
    if existing is not None:
        flash(_("Your organisation already applied; you can edit the application here."), "info")
        return redirect(url_for("applications.detail", application_id=existing.id))
    form = ApplyForm()
    if form.validate_on_submit():
        with domain_errors(form, quiet=(Conflict,)) as outcome:
            application = application_service.apply(current_user, challenge_id, form.proposal.data)
        if outcome.ok:
            flash(_("Your application is submitted."), "success")
            return redirect(url_for("applications.detail", application_id=application.id))
        if isinstance(outcome.error, Conflict):  # a second submit lost the race: the first application stands
            flash(outcome.error.message, "info")
            return redirect(url_for("challenges.detail", challenge_id=challenge_id), 303)
    return render_template("challenges/apply.html", form=form, challenge=challenge)


@bp.route("/<int:challenge_id>/suggestions")
@allow(Role.MUNICIPALITY, *STAFF)
def suggestions(challenge_id: int):
    """Suggested start-ups with the reasons: for the owning municipality and facilitators."""
    challenge = challenge_service.get_visible(current_user, challenge_id)
    if not suggestion_service.can_see_suggestions(current_user, challenge):
        abort(404)
    try:
        filters = suggestion_service.ProfileFilter.from_args(request.args)
    except InvalidInput:
        abort(400)
    results, unavailable = semantic_results(
        lambda: with_bands(suggestion_service.startups_for_challenge(challenge, filters))
        if challenge.status != ChallengeStatus.DRAFT else []
    )
    return render_template("challenges/suggestions.html", challenge=challenge, results=results,
                           unavailable=unavailable, filters=filters, details=policy.is_staff(current_user))
