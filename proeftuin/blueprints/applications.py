"""Applications: the start-up's own list, the shared detail page, edits and decisions."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from proeftuin import policy
from proeftuin.access import SIGNED_IN, allow
from proeftuin.blueprints.challenge_forms import ApplyForm
from proeftuin.blueprints.errors import domain_errors
from proeftuin.enums import Role
from proeftuin.extensions import db
from proeftuin.services import applications as application_service

bp = Blueprint("applications", __name__, url_prefix="/applications")

DECISION_MESSAGES = {
    "shortlist": _l("The application is shortlisted."),
    "reject": _l("The application is not retained."),
    "select": _l("The application is selected."),
}


class DecisionForm(FlaskForm):
    decision = HiddenField(validators=[DataRequired(), AnyOf(list(DECISION_MESSAGES))])
    message = TextAreaField(_l("Message to the start-up"), validators=[Optional(), Length(max=5000)])


class WithdrawForm(FlaskForm):
    pass


@bp.route("/")
@allow(Role.STARTUP)
def index():
    items = db.session.scalars(application_service.own_query(current_user)).all()
    return render_template("applications/index.html", applications=items)


@bp.route("/<int:application_id>")
@allow(SIGNED_IN)
def detail(application_id: int):
    application = application_service.get_visible(current_user, application_id)
    is_applicant = current_user.role == Role.STARTUP
    return render_template(
        "applications/detail.html",
        application=application,
        is_applicant=is_applicant,
        is_owner=policy.owns_challenge(current_user, application.challenge),
        can_edit=is_applicant
        and application.status in application_service.EDITABLE
        and application.challenge.accepts_applications(date.today()),
        can_withdraw=is_applicant and application.status in application_service.WITHDRAWABLE,
        decision_form=DecisionForm(),
        withdraw_form=WithdrawForm(),
    )


@bp.route("/<int:application_id>/edit", methods=["GET", "POST"])
@allow(Role.STARTUP)
def edit(application_id: int):
    application = application_service.get_visible(current_user, application_id)
    form = ApplyForm(obj=application)
    if form.validate_on_submit():
        with domain_errors(form) as outcome:
            application_service.edit(current_user, application_id, form.proposal.data)
        if outcome.ok:
            flash(_("Your application is updated."), "success")
            return redirect(url_for("applications.detail", application_id=application_id))
    return render_template("applications/edit.html", form=form, application=application)


@bp.route("/<int:application_id>/withdraw", methods=["POST"])
@allow(Role.STARTUP)
def withdraw(application_id: int):
    if not WithdrawForm().validate_on_submit():
        abort(400)
    with domain_errors() as outcome:
        application_service.withdraw(current_user, application_id)
    if outcome.ok:
        flash(_("Your application is withdrawn."), "success")
    return redirect(url_for("applications.detail", application_id=application_id))


@bp.route("/<int:application_id>/decision", methods=["POST"])
@allow(Role.MUNICIPALITY)
def decide(application_id: int):
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    with domain_errors() as outcome:
        application = application_service.decide(
            current_user, application_id, form.decision.data, form.message.data
        )
    if outcome.failed:
        return redirect(url_for("applications.detail", application_id=application_id))
    flash(str(DECISION_MESSAGES[form.decision.data]), "success")
    return redirect(url_for("challenges.applications", challenge_id=application.challenge_id))
