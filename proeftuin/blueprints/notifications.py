"""Each user's in-app notifications."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from proeftuin.access import SIGNED_IN, allow
from proeftuin.extensions import db
from proeftuin.services import InvalidInput, notifications
from proeftuin.services.listing import page_args

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


class MarkReadForm(FlaskForm):
    pass


@bp.route("/")
@allow(SIGNED_IN)
def index():
    try:
        page, per_page = page_args(request.args, 30, 30)
    except InvalidInput:
        abort(400)
    pagination = db.paginate(notifications.for_user_query(current_user), page=page, per_page=per_page,
                             error_out=False)
    return render_template("notifications/index.html", pagination=pagination, form=MarkReadForm())


@bp.route("/read", methods=["POST"])
@allow(SIGNED_IN)
def mark_read():
    if MarkReadForm().validate_on_submit():
        notifications.mark_all_read(current_user)
    return redirect(url_for("notifications.index"))
