"""Organisation settings (issue 10): admins edit, members and viewers read; the public logo route.

Routes:
- GET/POST /organisation/settings/          any member reads; admins save (others: 403 on POST)
- POST     /organisation/settings/logo      admins upload a logo (SECURITY.md T17)
- POST     /organisation/settings/logo/remove   admins remove it
- GET      /organisation/logo/<org_id>      anyone: logos are public (an unverified organisation's
                                            only to its members and staff)
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from proeftuin import policy
from proeftuin.access import ANYONE, allow
from proeftuin.blueprints.errors import domain_errors
from proeftuin.blueprints.organisation_settings_forms import LogoForm, RemoveLogoForm, SettingsForm
from proeftuin.enums import Role
from proeftuin.extensions import talisman
from proeftuin.services import DomainError
from proeftuin.services import organisation_settings as settings

bp = Blueprint("organisation_settings", __name__, url_prefix="/organisation")

# The form fields around the file: the CSRF token and the multipart boundaries.
UPLOAD_FORM_OVERHEAD = 16 * 1024
LOGO_MAX_AGE = 24 * 3600


@bp.url_value_preprocessor
def allow_a_larger_body_for_the_logo(endpoint: str | None, values: dict | None) -> None:
    """The logo upload may carry LOGO_MAX_BYTES, more than the app-wide MAX_CONTENT_LENGTH.

    URL value preprocessors run before every before_request function, so this limit is in place
    before the CSRF and NUL checks read the body; a larger body is answered with 413.
    """
    if endpoint == "organisation_settings.upload_logo":
        request.max_content_length = current_app.config["LOGO_MAX_BYTES"] + UPLOAD_FORM_OVERHEAD


def _max_mb() -> int:
    return max(1, current_app.config["LOGO_MAX_BYTES"] // (1024 * 1024))


def _render(org, form: SettingsForm, logo_form: LogoForm | None = None):
    can_edit = policy.is_org_admin(current_user, org)
    return render_template(
        "organisation_settings/edit.html", org=org, form=form, can_edit=can_edit,
        logo_form=logo_form or LogoForm(_max_mb(), formdata=None), remove_form=RemoveLogoForm(formdata=None),
        official_name=settings.official_name(org, str(get_locale())), max_description=settings.DESCRIPTION_MAX,
    )


@bp.route("/settings/", methods=["GET", "POST"])
@allow(Role.MUNICIPALITY, Role.STARTUP)
def edit():
    org = settings.get_own(current_user)  # NotFound for someone who is no member
    form = SettingsForm(org)
    if request.method == "POST" and not policy.is_org_admin(current_user, org):
        abort(403)
    if form.validate_on_submit():
        was_verified = org.is_verified
        with domain_errors(form) as outcome:
            org = settings.update(current_user, form.to_data())
        if outcome.ok:
            flash(_("The organisation settings are saved."), "success")
            if was_verified and not org.is_verified:
                flash(_("Because the name changed, the support point verifies your organisation again; "
                        "until then what it publishes is not public."), "info")
            return redirect(url_for("organisation_settings.edit"))
        org = settings.get_own(current_user)
    return _render(org, form)


@bp.route("/settings/logo", methods=["POST"])
@allow(Role.MUNICIPALITY, Role.STARTUP)
def upload_logo():
    org = settings.get_own_for_change(current_user)
    form = LogoForm(_max_mb())
    if form.validate_on_submit():
        with domain_errors(form) as outcome:
            settings.set_logo(current_user, form.logo.data.stream)
        if outcome.ok:
            flash(_("The logo is saved."), "success")
            return redirect(url_for("organisation_settings.edit"))
        org = settings.get_own(current_user)
    return _render(org, SettingsForm(org, formdata=None), logo_form=form)


@bp.route("/settings/logo/remove", methods=["POST"])
@allow(Role.MUNICIPALITY, Role.STARTUP)
def remove_logo():
    form = RemoveLogoForm()
    if form.validate_on_submit():
        with domain_errors(form) as outcome:
            settings.remove_logo(current_user)
        if outcome.ok:
            flash(_("The logo is removed."), "success")
    return redirect(url_for("organisation_settings.edit"))


@bp.route("/logo/<int:org_id>")
@allow(ANYONE)
@talisman(content_security_policy="default-src 'none'; sandbox")
def logo(org_id: int):
    """The stored logo: re-encoded on upload, served as an image that cannot run anything."""
    try:
        org, path = settings.logo_for(current_user, org_id)
    except DomainError:
        abort(404)
    extension = path.rsplit(".", 1)[-1]
    response = send_file(path, mimetype=org.logo_content_type, as_attachment=True,
                         download_name=f"logo-{org.id}.{extension}", max_age=LOGO_MAX_AGE, conditional=True)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.public = True
    return response


@bp.app_template_global()
def org_contacts_visible(org) -> bool:
    """Whether the signed-in user may see `org`'s contact e-mail and phone (introduced parties only)."""
    return org is not None and settings.contacts_visible(current_user, org)


@bp.app_template_global()
def org_logo_url(org) -> str | None:
    """The logo's URL (versioned by its random file name, so a replaced logo is fetched anew), or None."""
    if org is None or not settings.logo_visible(current_user, org):
        return None
    return url_for("organisation_settings.logo", org_id=org.id, v=org.logo_file[:8])


@bp.app_template_filter("phone")
def phone_filter(e164: str | None) -> str:
    return settings.format_phone(e164)
