"""The facilitators' review queue of machine-suggested matches, and the match pages."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from proeftuin import policy
from proeftuin.access import SIGNED_IN, STAFF, allow
from proeftuin.blueprints.errors import domain_errors
from proeftuin.blueprints.matching_support import stored_band
from proeftuin.enums import RejectReason
from proeftuin.extensions import db
from proeftuin.services import InvalidInput, review
from proeftuin.services import challenges as challenge_service
from proeftuin.services.listing import int_list, page_args

bp = Blueprint("review", __name__)


class DecisionForm(FlaskForm):
    decision = SelectField(_l("Decision"), choices=[("accept", _l("Accept and introduce")),
                                                    ("needs_info", _l("Needs information")),
                                                    ("reject", _l("Reject"))],
                           validators=[DataRequired(), AnyOf(list(review.DECISIONS))])
    reason_code = SelectField(_l("Reason"), choices=[], validators=[Optional()])
    reason = TextAreaField(_l("Explanation"), validators=[Optional(), Length(max=2000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reason_code.choices = [("", "—")] + RejectReason.choices()


@bp.route("/review/")
@allow(*STAFF)
def queue():
    try:
        filters = review.QueueFilters.from_args(request.args)
        page, per_page = page_args(request.args, 20, current_app.config["MAX_PER_PAGE"])
    except InvalidInput:
        abort(400)
    pagination = db.paginate(review.queue_query(filters), page=page, per_page=per_page, error_out=False)
    return render_template("review/queue.html", pagination=pagination, filters=filters, form=DecisionForm(),
                           municipalities=challenge_service.municipalities_with_challenges(),
                           band_of=review.band_of, bands=list(review.BANDS),
                           strengths={s.id: stored_band(s) for s in pagination.items})


@bp.route("/review/decide", methods=["POST"])
@allow(*STAFF)
def decide():
    form = DecisionForm()
    try:
        ids = int_list(request.form.getlist("ids"))
    except InvalidInput:
        abort(400)
    back = request.form.get("back", "")
    target = back if back.startswith("/review/") and not back.startswith("//") else url_for("review.queue")
    if not form.validate_on_submit():
        flash(str(_l("Choose a valid decision and reason.")), "error")
        return redirect(target)
    with domain_errors() as outcome:
        rows = review.decide(current_user, ids, form.decision.data, form.reason_code.data or None, form.reason.data)
    if outcome.failed:
        return redirect(target)
    flash(ngettext("%(num)d suggestion decided.", "%(num)d suggestions decided.", len(rows)), "success")
    return redirect(target)


@bp.route("/matches/")
@allow(SIGNED_IN)
def my_matches():
    """The introductions the user's organisation is part of (staff: every accepted match)."""
    return render_template("review/my_matches.html", matches=review.accepted_for(current_user))


@bp.route("/matches/<int:suggestion_id>")
@allow(SIGNED_IN)
def match(suggestion_id: int):
    row = review.get_match(current_user, suggestion_id)
    return render_template("review/match.html", row=row, is_staff=policy.is_staff(current_user),
                           band=stored_band(row))
