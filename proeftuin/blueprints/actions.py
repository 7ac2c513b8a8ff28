"""The shape shared by one-button POST actions (close, withdraw, unpublish, delete)."""
from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect
from flask_wtf import FlaskForm

from proeftuin.blueprints.errors import domain_errors


def run_action(form: FlaskForm, action: Callable[[], object], done: str, target: str):
    """Check the CSRF-only form, call the service, flash the outcome, go back to `target`.

    A 404 or 403 from the service becomes the error page (`domain_errors`); other domain errors
    are flashed.
    """
    if not form.validate_on_submit():
        abort(400)
    with domain_errors() as outcome:
        action()
    if outcome.ok:
        flash(done, "success")
    return redirect(target)
