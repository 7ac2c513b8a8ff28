"""Platform administration: verify organisations, create facilitators, (de)activate accounts, read the audit log."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import EmailField, TextAreaField
from wtforms.validators import DataRequired, Email, Length

from proeftuin.access import STAFF, allow
from proeftuin.blueprints.errors import domain_errors
from proeftuin.blueprints.fields import SingleLineField
from proeftuin.enums import Role
from proeftuin.extensions import db
from proeftuin.models import AuditEvent
from proeftuin.services import InvalidInput, account_admin, accounts, verification
from proeftuin.services.listing import page_args

bp = Blueprint("admin", __name__, url_prefix="/admin")


class VerifyForm(FlaskForm):
    pass


class ReasonForm(FlaskForm):
    """Reject or withdraw a verification: the reason is mailed to the registrant."""

    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=verification.REASON_MAX)])


class FacilitatorForm(FlaskForm):
    name = SingleLineField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Email(), Length(max=254)])


@bp.route("/")
@allow(Role.ADMIN)
def index():
    return render_template("admin/index.html", pending=verification.pending_count())


@bp.route("/organisations/")
@allow(*STAFF)
def organisations():
    """The verification queue: who registered, whether the e-mail fits, verify / reject / revoke."""
    try:
        filters = verification.QueueFilters.from_args(request.args)
        page, per_page = page_args(request.args, 20, current_app.config["MAX_PER_PAGE"])
    except InvalidInput:
        abort(400)
    pagination = db.paginate(verification.queue_query(filters), page=page, per_page=per_page, error_out=True)
    return render_template(
        "admin/organisations.html", pagination=pagination, filters=filters,
        rows=verification.queue_rows(pagination.items), verify_form=VerifyForm(), reason_form=ReasonForm(),
    )


def _back_to_queue():
    back = request.form.get("back", "")
    if back.startswith("/admin/organisations/") and not back.startswith("//"):
        return redirect(back)
    return redirect(url_for("admin.organisations"))


@bp.route("/organisations/<int:organisation_id>/verify", methods=["POST"])
@allow(*STAFF)
def verify(organisation_id: int):
    if not VerifyForm().validate_on_submit():
        abort(400)
    org = verification.verify(current_user, organisation_id)
    flash(_("%(name)s is verified.", name=org.name), "success")
    return _back_to_queue()


def _decide_with_reason(organisation_id: int, decide, message):
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(_("Give the reason; it is sent to the person who registered."), "error")
        return _back_to_queue()
    with domain_errors() as outcome:
        org = decide(current_user, organisation_id, form.reason.data)
    if outcome.ok:
        flash(message % {"name": org.name}, "success")
    return _back_to_queue()


@bp.route("/organisations/<int:organisation_id>/reject", methods=["POST"])
@allow(*STAFF)
def reject(organisation_id: int):
    return _decide_with_reason(organisation_id, verification.reject,
                               _("%(name)s is not verified; the reason was sent by e-mail."))


@bp.route("/organisations/<int:organisation_id>/revoke", methods=["POST"])
@allow(*STAFF)
def revoke(organisation_id: int):
    return _decide_with_reason(organisation_id, verification.revoke,
                               _("The verification of %(name)s is withdrawn; the reason was sent by e-mail."))


@bp.route("/facilitators/new", methods=["GET", "POST"])
@allow(Role.ADMIN)
def new_facilitator():
    form = FacilitatorForm()
    if form.validate_on_submit():
        with domain_errors(form) as outcome:
            user = accounts.create_staff_user(current_user, form.email.data, form.name.data, Role.FACILITATOR)
        if outcome.ok:
            accounts.send_staff_welcome(user)
            flash(_("The facilitator account is created; an e-mail to choose a password is on its way."), "success")
            return redirect(url_for("admin.index"))
    return render_template("admin/facilitator_form.html", form=form)


@bp.route("/audit")
@allow(Role.ADMIN)
def audit_log():
    events = db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.at.desc()).limit(200)).all()
    return render_template("admin/audit.html", events=events)


@bp.route("/users/")
@allow(Role.ADMIN)
def users():
    """Every account, searchable on name or e-mail, with deactivate / reactivate."""
    try:
        query = account_admin.users_query(current_user, request.args.get("q", ""))
        page, per_page = page_args(request.args, 50, current_app.config["MAX_PER_PAGE"])
    except InvalidInput:
        abort(400)
    pagination = db.paginate(query, page=page, per_page=per_page, error_out=True)
    return render_template("admin/users.html", pagination=pagination, q=request.args.get("q", ""),
                           form=VerifyForm())


def _set_active(user_id: int, active: bool, message):
    if not VerifyForm().validate_on_submit():
        abort(400)
    with domain_errors() as outcome:
        user = account_admin.set_active(current_user, user_id, active)
    if outcome.ok:
        flash(message % {"name": user.name}, "success")
    return redirect(url_for("admin.users", q=request.form.get("q") or None))


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@allow(Role.ADMIN)
def deactivate_user(user_id: int):
    return _set_active(user_id, False,
                       _("%(name)s is deactivated: their sessions have ended and they were told by e-mail."))


@bp.route("/users/<int:user_id>/reactivate", methods=["POST"])
@allow(Role.ADMIN)
def reactivate_user(user_id: int):
    return _set_active(user_id, True, _("%(name)s is active again and was told by e-mail."))
