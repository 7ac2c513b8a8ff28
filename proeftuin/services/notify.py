"""Tell the other party by e-mail when something happens to an application.

Mail is queued in the outbox (`mail.queue_mail`) and sent by the worker after commit.
Each mail is written in the recipient's own language.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from proeftuin.extensions import db
from proeftuin.links import public_path, public_url
from proeftuin.models import Application, Notification, Organisation, User

logger = logging.getLogger(__name__)

SUBMITTED_SUBJECT = _l("New application for %(challenge)s")
SUBMITTED_BODY = _l(
    "Hello %(name)s,\n\n%(startup)s applied to your challenge \u201c%(challenge)s\u201d.\n"
    "Read the proposal: %(link)s\n"
)
DECIDED_SUBJECT = _l("News about your application for %(challenge)s")
DECIDED_BODY = _l(
    "Hello %(name)s,\n\nThe status of your application for \u201c%(challenge)s\u201d is now: %(status)s.\n"
    "Read the message of the municipality: %(link)s\n"
)


def _send_to_members(organisation: Organisation, subject, body, values: Callable[[], dict]) -> None:
    from proeftuin.services.mail import queue_mail

    for user in organisation.members:
        if not user.active:
            continue
        try:
            with force_locale(user.locale or "nl"):
                params = {**values(), "name": user.name}
                queue_mail(user.email, str(subject) % params, str(body) % params)
        except OSError:
            logger.exception("notification mail to user %s failed", user.id)


def application_submitted(application: Application) -> None:
    """Queue the mail to the municipality's members in the caller's transaction."""
    link = public_url("applications.detail", application_id=application.id)
    _send_to_members(
        application.challenge.organisation, SUBMITTED_SUBJECT, SUBMITTED_BODY,
        lambda: {"challenge": application.challenge.title, "startup": application.organisation.name, "link": link},
    )


def application_decided(application: Application) -> None:
    """Queue the mail to the start-up's members in the caller's transaction."""
    link = public_url("applications.detail", application_id=application.id)
    _send_to_members(
        application.organisation, DECIDED_SUBJECT, DECIDED_BODY,
        lambda: {"challenge": application.challenge.title, "status": application.status.label, "link": link},
    )


def notify_users(users: list[User], kind: str, text, link: str | None, values: Callable[[], dict],
                 mail_subject=None, mail_body=None) -> int:
    """Create an in-app notification for each active user, in their language, and mail it too.

    The caller commits. Mail failures are logged, never raised. Returns the number notified.
    """
    from proeftuin.services.mail import queue_mail

    count = 0
    for user in users:
        if not user.active:
            continue
        with force_locale(user.locale or "nl"):
            params = {**values(), "name": user.name}
            message = str(text) % params
            db.session.add(Notification(user_id=user.id, kind=kind, text=message[:500], link=link))
            if mail_subject is not None:
                try:
                    body = str(mail_body) % params if mail_body is not None else message
                    if link:
                        body += "\n\n" + public_path(link)
                    queue_mail(user.email, str(mail_subject) % params, body)
                except OSError:
                    logger.exception("notification mail to user %s failed", user.id)
        count += 1
    return count


def members(organisation: Organisation | None) -> list[User]:
    return [m for m in organisation.members if m.active] if organisation is not None else []
