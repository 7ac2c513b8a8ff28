"""Platform administration: verify organisations, create facilitators, read the audit log."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import EmailField, StringField
from wtforms.validators import DataRequired, Email, Length

from proeftuin.access import allow
from proeftuin.blueprints.fields import apply_domain_error
from proeftuin.enums import Role
from proeftuin.extensions import db
from proeftuin.links import public_url
from proeftuin.models import AuditEvent, Organisation
from proeftuin.services import DomainError, accounts
from proeftuin.services.mail import send_mail

bp = Blueprint("admin", __name__, url_prefix="/admin")


class VerifyForm(FlaskForm):
    pass


class FacilitatorForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Email(), Length(max=254)])


@bp.route("/")
@allow(Role.ADMIN)
def index():
    organisations = db.session.scalars(
        db.select(Organisation).order_by(Organisation.verified_at.is_not(None), Organisation.created_at.desc())
    ).all()
    return render_template("admin/index.html", organisations=organisations, verify_form=VerifyForm())


@bp.route("/organisations/<int:organisation_id>/verify", methods=["POST"])
@allow(Role.ADMIN)
def verify(organisation_id: int):
    if not VerifyForm().validate_on_submit():
        abort(400)
    org = accounts.verify_organisation(current_user, organisation_id)
    flash(_("%(name)s is verified.", name=org.name), "success")
    return redirect(url_for("admin.index"))


@bp.route("/facilitators/new", methods=["GET", "POST"])
@allow(Role.ADMIN)
def new_facilitator():
    form = FacilitatorForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_staff_user(current_user, form.email.data, form.name.data, Role.FACILITATOR)
        except DomainError as exc:
            if not apply_domain_error(form, exc):
                flash(exc.message, "error")
        else:
            link = public_url("auth.reset_password", token=accounts.make_reset_token(user))
            send_mail(
                user.email,
                _("Your Proeftuin facilitator account"),
                _("Hello %(name)s,\n\nAn account was created for you. Choose your password here:\n%(link)s\n",
                  name=user.name, link=link),
            )
            flash(_("The facilitator account is created; an e-mail to choose a password is on its way."), "success")
            return redirect(url_for("admin.index"))
    return render_template("admin/facilitator_form.html", form=form)


@bp.route("/audit")
@allow(Role.ADMIN)
def audit_log():
    events = db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.at.desc()).limit(200)).all()
    return render_template("admin/audit.html", events=events)
