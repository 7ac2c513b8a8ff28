"""Start-up profiles: browse and read (everyone), keep your own (start-up members)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from proeftuin.access import ANYONE, allow
from proeftuin.blueprints.fields import apply_domain_error
from proeftuin.blueprints.startup_forms import ProfileForm
from proeftuin.enums import Role
from proeftuin.extensions import db
from proeftuin.services import DomainError, InvalidInput, profiles
from proeftuin.services.listing import page_args

bp = Blueprint("startups", __name__, url_prefix="/startups")


@bp.route("/")
@allow(ANYONE)
def index():
    try:
        filters = profiles.ProfileFilters.from_args(request.args)
        page, per_page = page_args(request.args, current_app.config["PER_PAGE"], current_app.config["MAX_PER_PAGE"])
    except InvalidInput:
        abort(400)
    pagination = db.paginate(profiles.browse_query(filters), page=page, per_page=per_page, error_out=False)
    return render_template("startups/index.html", pagination=pagination, filters=filters)


@bp.route("/profile", methods=["GET", "POST"])
@allow(Role.STARTUP)
def edit_profile():
    profile = profiles.own_profile(current_user)
    form = ProfileForm()
    form.fill_from(profile, current_user.organisation)
    if form.validate_on_submit():
        try:
            profile = profiles.save(current_user, form.to_data())
        except DomainError as exc:
            db.session.rollback()
            if not apply_domain_error(form, exc):
                flash(exc.message, "error")
        else:
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("startups.detail", slug=profile.organisation.slug))
    return render_template("startups/form.html", form=form, profile=profile)


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
