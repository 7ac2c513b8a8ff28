"""Registration, log-in and log-out, password reset; the account page (name, language, e-mail,
password, export, deletion)."""
from __future__ import annotations

import hashlib
import json

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from proeftuin import policy
from proeftuin.access import ANYONE, SIGNED_IN, allow
from proeftuin.blueprints.auth_forms import (
    ChangePasswordForm,
    ConfirmForm,
    DeleteAccountForm,
    EmailChangeForm,
    LoginForm,
    OrganisationForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
    ResetRequestForm,
)
from proeftuin.blueprints.errors import domain_errors
from proeftuin.blueprints.main import safe_next
from proeftuin.enums import OrgKind, Region, Role
from proeftuin.extensions import db, limiter
from proeftuin.models import Municipality
from proeftuin.services import account_data, account_settings, accounts

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _login_account_limit() -> str:
    return current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"]


def _login_account_key() -> str:
    """Rate-limit key for the account being tried: the normalised e-mail, whatever the client IP.

    The per-IP limit alone lets guesses against one account be spread over many addresses; this
    second limit stops that at `LOGIN_ACCOUNT_RATE_LIMIT` (default 20 per 15 minutes, so at most
    80 guesses an hour, under ASVS's 100). Why it cannot lock people out without bound:

    - it is a window, not a lockout flag: the account opens again by itself when the window ends
      (at most 15 minutes after the last attempt), and no state is kept beyond that;
    - it is set above the per-IP limit, so blocking one account costs an attacker more than one
      IP's quota per window, and it only blocks the log-in form: password reset (its own per-IP
      limit) and sessions already open keep working;
    - the key is a hash of the normalised address, so case or spaces cannot open a fresh
      counter, the storage holds no e-mail addresses, and a huge form value makes a short key.
    """
    email = accounts.normalise_email(request.form.get("email", ""))
    return "login-account:" + hashlib.sha256(email.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _reset_limit() -> str:
    return current_app.config["RESET_RATE_LIMIT"]


def _register_limit() -> str:
    return current_app.config["REGISTER_RATE_LIMIT"]


def _start_session(user, remember: bool) -> None:
    """Fresh session on log-in: nothing from before survives (session fixation)."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    login_user(user, remember=remember)
    session.permanent = True


@bp.route("/register", methods=["GET", "POST"])
@allow(ANYONE)
@limiter.limit(_register_limit, methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegisterForm()
    municipalities = db.session.scalars(db.select(Municipality).order_by(Municipality.name_nl))
    locale = str(get_locale())
    form.municipality.choices = [("", "—")] + [(m.nis_code, m.name(locale)) for m in municipalities]
    if form.validate_on_submit():
        data = accounts.Registration(
            email=form.email.data,
            password=form.password.data,
            name=form.name.data,
            kind=OrgKind(form.kind.data),
            organisation_name=form.organisation_name.data or "",
            municipality_nis=form.municipality.data or None,
            region=Region(form.region.data) if form.region.data else None,
            website=form.website.data or None,
            locale=locale,
            join_existing=bool(form.join.data),
            join_message=form.join_message.data or None,
        )
        with domain_errors(form) as outcome:
            accounts.register(data)
        if outcome.ok:
            # The same answer whether the address was new or already had an account (no oracle):
            # no automatic log-in, one message, one redirect; the mail tells each case apart.
            flash(_("Thank you. We sent a message to the address you gave; log in to continue. "
                    "The support point will verify your organisation."), "success")
            target = "startups.edit_profile" if data.kind == OrgKind.STARTUP else "challenges.mine"
            return redirect(url_for("auth.login", next=url_for(target)))
    return render_template("auth/register.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@allow(ANYONE)
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_account_limit, methods=["POST"], key_func=_login_account_key)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            _start_session(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next"), url_for("main.index")))
        # One message for unknown e-mail and wrong password: no account oracle.
        flash(_("The e-mail address or the password is not correct."), "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@allow(SIGNED_IN)
def logout():
    accounts.end_sessions(current_user)
    logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/reset", methods=["GET", "POST"])
@allow(ANYONE)
@limiter.limit(_reset_limit, methods=["POST"])
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        accounts.send_reset_link(form.email.data)
        # The same answer whether or not the address has an account.
        flash(_("If an account exists for this address, we sent a link to reset the password."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@allow(ANYONE)
def reset_password(token: str):
    if accounts.user_for_reset_token(token) is None:
        flash(_("This reset link is invalid or has expired."), "error")
        return redirect(url_for("auth.reset_request"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        with domain_errors(form) as outcome:
            accounts.reset_password(token, form.password.data)
        if outcome.ok:
            flash(_("Your password is changed. You can log in now."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form)


def _organisation_form() -> OrganisationForm | None:
    """The rename form, for a start-up's admins (a municipality's official name is not editable; the
    other settings are on /organisation/settings/)."""
    org = current_user.organisation
    if org is None or current_user.role != Role.STARTUP or not policy.is_org_admin(current_user, org):
        return None
    form = OrganisationForm(prefix="org")
    if not form.is_submitted():
        form.organisation_name.data = current_user.organisation.name
    return form


def _me():
    """The signed-in user itself, not Flask-Login's proxy (audit rows record the object's type)."""
    return current_user._get_current_object()


def _account_page(**forms):
    """The account page with every form on it; `forms` replaces the ones the user just sent."""
    profile_form = ProfileForm(formdata=None, prefix="profile", name=current_user.name,
                               locale=current_user.locale or str(get_locale()))
    context = {
        "form": ChangePasswordForm(formdata=None),
        "org_form": _organisation_form(),
        "profile_form": profile_form,
        "email_form": EmailChangeForm(formdata=None, prefix="email"),
        "export_form": ConfirmForm(formdata=None, prefix="export"),
    }
    context.update(forms)
    return render_template("auth/account.html", **context)


@bp.route("/account/organisation", methods=["POST"])
@allow(Role.MUNICIPALITY, Role.STARTUP)
def organisation_settings():
    form = _organisation_form()
    if form is None:
        abort(404)
    if form.validate_on_submit():
        was_verified = current_user.organisation.is_verified
        with domain_errors(form) as outcome:
            org = accounts.rename_organisation(current_user, form.organisation_name.data)
        if outcome.ok:
            flash(_("The organisation settings are saved."), "success")
            if was_verified and not org.is_verified:
                flash(_("Because the name changed, the support point verifies your organisation again; "
                        "until then what it publishes is not public."), "info")
            return redirect(url_for("auth.account"))
    return _account_page(org_form=form)


@bp.route("/account", methods=["GET", "POST"])
@allow(SIGNED_IN)
def account():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        with domain_errors(form) as outcome:
            accounts.change_password(_me(), form.current_password.data, form.new_password.data)
        if outcome.ok:
            logout_user()
            session.clear()
            flash(_("Your password is changed. Log in again with the new password."), "success")
            return redirect(url_for("auth.login"))
    return _account_page(form=form)


@bp.route("/account/profile", methods=["POST"])
@allow(SIGNED_IN)
def account_profile():
    form = ProfileForm(prefix="profile")
    if form.validate_on_submit():
        with domain_errors(form) as outcome:
            account_settings.update_profile(_me(), form.name.data, form.locale.data)
        if outcome.ok:
            session["locale"] = current_user.locale
            flash(_("Your name and language are saved."), "success")
            return redirect(url_for("auth.account"))
    return _account_page(profile_form=form)


@bp.route("/account/email", methods=["POST"])
@allow(SIGNED_IN)
@limiter.limit(_reset_limit, methods=["POST"])
def change_email():
    form = EmailChangeForm(prefix="email")
    if form.validate_on_submit():
        with domain_errors(form) as outcome:
            account_settings.request_email_change(_me(), form.new_email.data, form.password.data)
        if outcome.ok:
            # The same answer whether or not the address already has an account (no oracle).
            flash(_("We sent a link to the new address. Follow it to confirm the change; until then you "
                    "log in with your current address."), "info")
            return redirect(url_for("auth.account"))
    return _account_page(email_form=form)


@bp.route("/account/email/<token>", methods=["GET", "POST"])
@allow(ANYONE)
def confirm_email(token: str):
    user = account_settings.user_for_email_token(token)
    if user is None:
        flash(_("This confirmation link is invalid or has expired."), "error")
        return redirect(url_for("auth.account" if current_user.is_authenticated else "auth.login"))
    form = ConfirmForm()
    if form.validate_on_submit():
        with domain_errors(form) as outcome:
            account_settings.confirm_email_change(token)
        if outcome.ok:
            flash(_("Your e-mail address is changed. Log in with the new address from now on."), "success")
            return redirect(url_for("auth.account" if current_user.is_authenticated else "auth.login"))
        return redirect(url_for("auth.login"))
    return render_template("auth/confirm_email.html", form=form, new_email=user.pending_email)


def _export_limit() -> str:
    return current_app.config["EXPORT_RATE_LIMIT"]


@bp.route("/account/export", methods=["POST"])
@allow(SIGNED_IN)
@limiter.limit(_export_limit)
def export_data():
    """Download everything the platform holds about the signed-in person (POST: needs the session
    and its CSRF token; nothing in the URL grants access)."""
    if not ConfirmForm(prefix="export").validate_on_submit():
        abort(400)
    data = account_data.export(_me())
    body = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False)
    return Response(body, content_type="application/json; charset=utf-8", headers={
        "Content-Disposition": f"attachment; filename=\"{account_data.export_filename(current_user)}\"",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    })


@bp.route("/account/delete", methods=["GET", "POST"])
@allow(SIGNED_IN)
def delete_account():
    form = DeleteAccountForm()
    if form.validate_on_submit():
        with domain_errors(form) as outcome:
            account_data.delete_account(_me(), form.password.data)
        if outcome.ok:
            locale = session.get("locale")
            logout_user()
            session.clear()
            if locale:
                session["locale"] = locale  # the goodbye page stays in the person's language
            flash(_("Your account is deleted. A last message confirming it is on its way to your address."),
                  "success")
            return redirect(url_for("main.index"))
    return render_template("auth/delete_account.html", form=form,
                           blocker=account_data.deletion_blocker(current_user),
                           others=len(account_data.other_members(current_user)))
