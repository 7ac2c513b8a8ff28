"""Start-up profiles: browse and read (everyone), keep your own (start-up members)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from proeftuin import policy
from proeftuin.access import ANYONE, allow
from proeftuin.blueprints.errors import domain_errors
from proeftuin.blueprints.matching_support import (
    described_results,
    search_rate_limit,
    semantic_results,
    with_bands,
)
from proeftuin.blueprints.startup_forms import ProfileForm
from proeftuin.enums import Role
from proeftuin.extensions import db, limiter
from proeftuin.services import InvalidInput, profiles
from proeftuin.services import suggestions as suggestion_service
from proeftuin.services.listing import page_args

bp = Blueprint("startups", __name__, url_prefix="/startups")


@bp.route("/")
@allow(ANYONE)
@limiter.limit(search_rate_limit, exempt_when=lambda: not request.args.get("describe"))
def index():
    try:
        filters = profiles.ProfileFilters.from_args(request.args)
        page, per_page = page_args(request.args, current_app.config["PER_PAGE"], current_app.config["MAX_PER_PAGE"])
    except InvalidInput:
        abort(400)
    describe = request.args.get("describe", "").strip()[:1000]
    if describe:
        results, unavailable, no_match = described_results(
            lambda: with_bands(suggestion_service.search_profiles(describe, str(get_locale()), filters))
        )
        return render_template("startups/index.html", pagination=None, results=results, no_match=no_match,
                               details=policy.is_staff(current_user),
                               unavailable=unavailable, describe=describe, filters=filters)
    pagination = db.paginate(profiles.browse_query(filters), page=page, per_page=per_page, error_out=False)
    return render_template("startups/index.html", pagination=pagination, filters=filters, describe="")


@bp.route("/profile", methods=["GET", "POST"])
@allow(Role.STARTUP)
def edit_profile():
    profile = profiles.own_profile(current_user)
    form = ProfileForm()
    form.fill_from(profile, current_user.organisation)
    if form.validate_on_submit():
        with domain_errors(form) as outcome:
            profile = profiles.save(current_user, form.to_data())
        if outcome.ok:
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("startups.detail", slug=profile.organisation.slug))
    return render_template("startups/form.html", form=form, profile=profile)


@bp.route("/recommendations")
@allow(Role.STARTUP)
def recommendations():
    """Open challenges that fit the start-up's profile, with the reasons."""
    profile = profiles.own_profile(current_user)
    if profile is None:
        flash(_("Write your profile first: recommendations are based on it."), "info")
        return redirect(url_for("startups.edit_profile"))
    results, unavailable = semantic_results(lambda: with_bands(suggestion_service.challenges_for_profile(profile)))
    return render_template("startups/recommendations.html", profile=profile, results=results,
                           unavailable=unavailable, details=policy.is_staff(current_user))


@bp.route("/<slug>")
@allow(ANYONE)
def detail(slug: str):
    profile = profiles.get_public(slug)
    is_owner = (
        current_user.is_authenticated
        and current_user.role == Role.STARTUP
        and current_user.organisation_id == profile.organisation_id
    )
    return render_template("startups/detail.html", profile=profile, is_owner=is_owner)
