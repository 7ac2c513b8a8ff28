"""The platform administrator's side of accounts: find a user, deactivate and reactivate them.

Deactivating ends the person's sessions at once (the loader refuses inactive accounts, and the
session version is bumped too), takes an expertise profile out of the engine's index, and tells
the person by mail; reactivating undoes it. A deleted account stays deleted.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from proeftuin.enums import Role
from proeftuin.extensions import db
from proeftuin.links import public_url
from proeftuin.models import ExpertProfile, User
from proeftuin.services import Forbidden, InvalidInput, InvalidTransition, NotFound, audit, outbox
from proeftuin.services.listing import like_pattern
from proeftuin.services.mail import InvalidRecipient, queue_mail
from proeftuin.services.texts import EXPERT

SEARCH_MAX = 100

DEACTIVATED_SUBJECT = _l("Your Proeftuin account is deactivated")
DEACTIVATED_BODY = _l(
    "Hello %(name)s,\n\nAn administrator of the Proeftuin support point deactivated your account: "
    "you can no longer log in, and every open session has ended. Your data is kept.\n\n"
    "If you think this is a mistake, write to the support point: %(support)s\n"
)
REACTIVATED_SUBJECT = _l("Your Proeftuin account is active again")
REACTIVATED_BODY = _l(
    "Hello %(name)s,\n\nAn administrator of the Proeftuin support point reactivated your account. "
    "You can log in again: %(login)s\n"
)


def users_query(actor: User, search: str = "") -> sa.Select:
    """Every account, newest first, optionally filtered on name or e-mail (administrators only).

    Raises:
        Forbidden: the actor is not a platform administrator.
        InvalidInput: the search text is too long.
    """
    if actor.role != Role.ADMIN:
        raise Forbidden()
    search = " ".join((search or "").split())
    if len(search) > SEARCH_MAX:
        raise InvalidInput(str(_l("Use at most %(num)d characters.", num=SEARCH_MAX)), "q")
    query = sa.select(User).order_by(User.id.desc())
    if search:
        pattern = like_pattern(search.lower())
        query = query.where(sa.or_(sa.func.lower(User.name).like(pattern, escape="\\"),
                                   User.email.like(pattern, escape="\\")))
    return query


def set_active(actor: User, user_id: int, active: bool) -> User:
    """Deactivate (`active=False`) or reactivate an account; audited and mailed to the person.

    Raises:
        Forbidden: the actor is not a platform administrator.
        NotFound: no such account.
        InvalidInput: administrators cannot deactivate themselves.
        InvalidTransition: the account was deleted by its owner.
    """
    if actor.role != Role.ADMIN:
        raise Forbidden()
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound()
    if user.id == actor.id:
        raise InvalidInput(str(_l("You cannot deactivate your own account.")))
    if user.deleted_at is not None:
        raise InvalidTransition(str(_l("This account was deleted by its owner; it cannot be changed.")))
    if user.active == active:
        return user
    user.active = active
    if not active:
        user.session_version += 1
    audit.record(actor, "account.reactivate" if active else "account.deactivate", user)
    profile_id = db.session.scalar(sa.select(ExpertProfile.id).where(ExpertProfile.user_id == user.id))
    if profile_id is not None:
        outbox.record("index.sync", {"kind": EXPERT, "id": profile_id})
    with force_locale(user.locale or "nl"):
        if active:
            subject, body = REACTIVATED_SUBJECT, REACTIVATED_BODY
        else:
            subject, body = DEACTIVATED_SUBJECT, DEACTIVATED_BODY
        params = {"name": user.name, "support": current_app.config["SUPPORT_EMAIL"],
                  "login": public_url("auth.login")}
        try:
            queue_mail(user.email, str(subject), str(body) % params)
        except InvalidRecipient:
            pass  # an address that cannot be mailed does not stop the administrator
    db.session.commit()
    return user
