"""What a view does when a service refuses: one answer for every blueprint.

A view wraps its one service call in `domain_errors(form)`:

    with domain_errors(form) as outcome:
        challenge = challenge_service.create(current_user, form.to_data())
    if outcome.ok:
        flash(...)
        return redirect(...)
    return render_template(..., form=form)

The session is always rolled back first. Then, by the kind of error:

- `NotFound` (404): the generic 404 page, never the service's message, so a page cannot tell
  "does not exist" from "not yours" (no existence oracle);
- `Forbidden` (403): the 403 page, with the service's message when it has one;
- an error that names a field of `form` (`exc.field`): the message is shown on that field and the
  form keeps what the user typed (`outcome.on_form`);
- anything else (`InvalidInput`, `Conflict`, `InvalidTransition`, ...): a flash on the page the view
  shows or redirects to.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import abort, flash
from flask_wtf import FlaskForm

from proeftuin.extensions import db
from proeftuin.services import DomainError


@dataclass
class Outcome:
    """What came of the service call: `error` is None when it succeeded."""

    error: DomainError | None = None
    on_form: bool = False  # the message is shown on a field of the form

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def failed(self) -> bool:
        return self.error is not None


def apply_domain_error(form: FlaskForm | None, exc: DomainError) -> bool:
    """Attach a service error to its form field; return False when it names no field of `form`."""
    field = getattr(form, exc.field, None) if form is not None and exc.field else None
    if field is None:
        return False
    field.errors = [*field.errors, exc.message] if isinstance(field.errors, list) else [exc.message]
    return True


def handle_domain_error(exc: DomainError, form: FlaskForm | None = None, *, show: bool = True,
                        outcome: Outcome | None = None) -> Outcome:
    """Roll back, then answer the refusal as the module docstring says.

    Args:
        exc: what the service raised.
        form: the form the user sent, if any; a field-bound error is shown on it.
        show: False leaves the message to the view (the error is only recorded on the outcome).
        outcome: the object to record on (the one `domain_errors` yielded).

    Returns:
        The outcome, with `error` set and `on_form` telling whether a field took the message.

    Raises:
        werkzeug.exceptions.NotFound: for a `NotFound` (404) error.
        Forbidden: for a `Forbidden` (403) error, re-raised for the application's error handler.
    """
    db.session.rollback()
    if exc.status_code == 404:
        abort(404)
    if exc.status_code == 403:
        raise exc
    outcome = outcome if outcome is not None else Outcome()
    outcome.error = exc
    if show:
        outcome.on_form = apply_domain_error(form, exc)
        if not outcome.on_form:
            flash(exc.message, "error")
    return outcome


@contextmanager
def domain_errors(form: FlaskForm | None = None, *,
                  quiet: tuple[type[DomainError], ...] = ()) -> Iterator[Outcome]:
    """Run a service call; a domain error it raises is handled by `handle_domain_error`.

    Args:
        form: the form the user sent, if any.
        quiet: error classes the view answers itself: rolled back and recorded on the outcome,
            neither flashed nor put on the form (404 and 403 are still answered here).
    """
    outcome = Outcome()
    try:
        yield outcome
    except DomainError as exc:
        handle_domain_error(exc, form, show=not isinstance(exc, quiet), outcome=outcome)
