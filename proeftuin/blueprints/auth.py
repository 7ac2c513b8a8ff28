"""Registration, log-in and log-out, password reset and change."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from proeftuin.access import ANYONE, SIGNED_IN, allow
from proeftuin.blueprints.auth_forms import (
    ChangePasswordForm,
    LoginForm,
    RegisterForm,
    ResetPasswordForm,
    ResetRequestForm,
)
from proeftuin.blueprints.fields import apply_domain_error
from proeftuin.blueprints.main import safe_next
from proeftuin.enums import OrgKind, Region
from proeftuin.extensions import db, limiter
from proeftuin.links import public_url
from proeftuin.models import Municipality
from proeftuin.services import DomainError, accounts
from proeftuin.services.mail import send_mail

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _reset_limit() -> str:
    return current_app.config["RESET_RATE_LIMIT"]


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
        )
        try:
            user = accounts.register(data)
        except DomainError as exc:
            if not apply_domain_error(form, exc):
                flash(exc.message, "error")
        else:
            _start_session(user, remember=False)
            flash(_("Welcome to Proeftuin. Your organisation will be verified by the support point."), "success")
            target = "startups.edit_profile" if user.role.value == "startup" else "challenges.mine"
            return redirect(url_for(target))
    return render_template("auth/register.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@allow(ANYONE)
@limiter.limit(_login_limit, methods=["POST"])
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
        user = accounts.find_user_for_reset(form.email.data)
        if user is not None:
            token = accounts.make_reset_token(user)
            link = public_url("auth.reset_password", token=token)
            send_mail(
                user.email,
                _("Reset your Proeftuin password"),
                _(
                    "Hello %(name)s,\n\nFollow this link within an hour to choose a new password:\n%(link)s\n\n"
                    "If you did not ask for this, ignore this message.",
                    name=user.name,
                    link=link,
                ),
            )
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
        try:
            accounts.reset_password(token, form.password.data)
        except DomainError as exc:
            if not apply_domain_error(form, exc):
                flash(exc.message, "error")
        else:
            flash(_("Your password is changed. You can log in now."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form)


@bp.route("/account", methods=["GET", "POST"])
@allow(SIGNED_IN)
def account():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.current_password.data, form.new_password.data)
        except DomainError as exc:
            if not apply_domain_error(form, exc):
                flash(exc.message, "error")
        else:
            logout_user()
            session.clear()
            flash(_("Your password is changed. Log in again with the new password."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/account.html", form=form)
