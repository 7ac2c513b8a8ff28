"""The shape shared by one-button POST actions (close, withdraw, unpublish, delete)."""
from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect
from flask_wtf import FlaskForm

from proeftuin.extensions import db
from proeftuin.services import DomainError


def run_action(form: FlaskForm, action: Callable[[], object], done: str, target: str):
    """Check the CSRF-only form, call the service, flash the outcome, go back to `target`.

    A 404 from the service (not yours, or gone) propagates; other domain errors are flashed.
    """
    if not form.validate_on_submit():
        abort(400)
    try:
        action()
    except DomainError as exc:
        if exc.status_code == 404:
            raise
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(done, "success")
    return redirect(target)
