"""Procedure guidance for a challenge: five questions, recommended routes, and the pre-publication check."""
from __future__ import annotations

from datetime import date

import click
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SelectField
from wtforms.validators import DataRequired, InputRequired, NumberRange

from proeftuin import policy
from proeftuin.access import STAFF, allow
from proeftuin.blueprints.errors import domain_errors
from proeftuin.enums import ProcurementRoute, Role
from proeftuin.services import guidance

bp = Blueprint("guidance", __name__, url_prefix="/challenges")

YES_NO = [("yes", _l("Yes")), ("no", _l("No"))]


class GuidanceForm(FlaskForm):
    market = RadioField(
        _l("Do solutions for this problem already exist on the market?"),
        choices=[("exists", _l("Yes, they exist")), ("partly", _l("Partly, they need adapting")),
                 ("none", _l("No, not that we know of"))],
        validators=[DataRequired(message=_l("Choose an answer."))],
    )
    rnd = RadioField(
        _l("Is research and development needed?"),
        choices=[*YES_NO, ("unsure", _l("Not sure"))],
        validators=[DataRequired(message=_l("Choose an answer."))],
    )
    value = IntegerField(
        _l("Estimated value (euro, excluding VAT)"),
        validators=[InputRequired(message=_l("Enter an amount in euro.")),
                    NumberRange(min=0, max=1_000_000_000, message=_l("Enter an amount of zero or more."))],
        description=_l("Everything you expect to spend, options and extensions included. A rough estimate is fine."),
    )
    months = IntegerField(
        _l("Months until you need a working solution"),
        validators=[InputRequired(message=_l("Enter a number of months.")),
                    NumberRange(min=1, max=120, message=_l("Enter a number between 1 and 120."))],
    )
    pilot = RadioField(
        _l("Do you want to test first in a pilot?"),
        choices=YES_NO,
        validators=[DataRequired(message=_l("Choose an answer."))],
    )

    def to_answers(self) -> guidance.Answers:
        return guidance.Answers(market=self.market.data, rnd=self.rnd.data, value_eur=self.value.data,
                                months=self.months.data, pilot=self.pilot.data == "yes")


class RouteForm(FlaskForm):
    route = SelectField(choices=[], validators=[DataRequired()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.route.choices = ProcurementRoute.choices()


@bp.record_once
def _check_route_file(state) -> None:
    """Refuse to start with a broken route file (a later broken edit keeps the last good version)."""
    guidance.read_catalogue(state.app.config.get("PROCUREMENT_ROUTES_FILE") or guidance.ROUTES_FILE)


@bp.app_template_global("challenge_findings")
def challenge_findings(challenge) -> list[guidance.Finding]:
    """The pre-publication check, for templates (`templates/challenges/_check.html`)."""
    return guidance.check_challenge(challenge, date.today())


@bp.route("/<int:challenge_id>/guidance", methods=["GET", "POST"])
@allow(Role.MUNICIPALITY, *STAFF)
def questionnaire(challenge_id: int):
    challenge = guidance.get_for_guidance(current_user, challenge_id)
    catalogue = guidance.load_routes()
    form = GuidanceForm()
    if not form.is_submitted():
        form.value.data = challenge.budget_max or challenge.budget_min
    recommendation = None
    if form.validate_on_submit():
        with domain_errors(form):
            recommendation = guidance.recommend(form.to_answers(), catalogue)
    return render_template(
        "guidance/questionnaire.html", challenge=challenge, form=form, recommendation=recommendation,
        catalogue=catalogue, rules=guidance.RULES, route_form=RouteForm(),
        is_owner=policy.owns_challenge(current_user, challenge),
        editable=challenge.status in guidance.EDITABLE_STATUSES,
    )


@bp.route("/<int:challenge_id>/guidance/route", methods=["POST"])
@allow(Role.MUNICIPALITY)
def set_route(challenge_id: int):
    form = RouteForm()
    if not form.validate_on_submit():
        abort(400)
    with domain_errors() as outcome:
        challenge = guidance.set_route(current_user, challenge_id, form.route.data)
    if outcome.failed:
        return redirect(url_for("guidance.questionnaire", challenge_id=challenge_id))
    flash(_("The procurement route of the challenge is now \u201c%(route)s\u201d.",
            route=challenge.procurement_route.label), "success")
    return redirect(url_for("challenges.detail", challenge_id=challenge_id))


@bp.cli.command("check-routes")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
def check_routes(path: str | None) -> None:
    """Validate the procurement route file (after editing it)."""
    target = path or str(guidance.routes_path())
    try:
        catalogue = guidance.read_catalogue(target)
    except guidance.RouteFileError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{target}: {len(catalogue.routes)} routes, checked on {catalogue.checked_on.isoformat()}")
