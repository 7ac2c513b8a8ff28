"""A person's own account settings: name, language, and a new e-mail address confirmed by mail.

The e-mail change is two steps. `request_email_change` (password re-entered) keeps the new address
in `User.pending_email` and mails a signed link to it; `confirm_email_change` (the link, within
`EMAIL_CHANGE_MAX_AGE`) makes it the log-in address and tells the old address. The link is bound to
the pending address and to the current one, so it works once: after the change, after a newer
request, or after the request was cancelled, it is dead.

An address that already belongs to another account gets the same answer as a free one (no account
oracle, like registration): the pending address is shown the same way, no link is sent to it, and
its owner is told that someone tried to use it.
"""
from __future__ import annotations

import hashlib
import logging

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from proeftuin.extensions import db
from proeftuin.links import public_url
from proeftuin.models import User
from proeftuin.services import InvalidInput, NotFound, audit
from proeftuin.services.accounts import normalise_email
from proeftuin.services.mail import InvalidRecipient, queue_mail, recipient_address
from proeftuin.services.passwords import verify_password

logger = logging.getLogger(__name__)

NAME_MAX = 120

CONFIRM_SUBJECT = _l("Confirm your new e-mail address for Proeftuin")
CONFIRM_BODY = _l(
    "Hello %(name)s,\n\nYou asked to log in to Proeftuin with this e-mail address from now on. "
    "Confirm it by following this link within %(hours)d hours:\n%(link)s\n\n"
    "Until you confirm, you keep logging in with your current address. "
    "If you did not ask for this, ignore this message: nothing changes.\n"
)
TAKEN_SUBJECT = _l("Someone tried to use your e-mail address on Proeftuin")
TAKEN_BODY = _l(
    "Hello %(name)s,\n\nSomeone asked to move another Proeftuin account to this e-mail address, "
    "but it already belongs to your account. Nothing was changed.\n\n"
    "If this was you, log in with this address: %(login)s\n"
    "If you have questions, write to the support point: %(support)s\n"
)
CHANGED_SUBJECT = _l("The e-mail address of your Proeftuin account was changed")
CHANGED_BODY = _l(
    "Hello %(name)s,\n\nThe e-mail address of your Proeftuin account was changed to %(new)s. "
    "From now on you log in with that address, and mail from Proeftuin goes there.\n\n"
    "If you did not do this, write to the support point at once: %(support)s\n"
)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="email-change")


def update_profile(user: User, name: str, locale: str) -> User:
    """Change the person's display name and language.

    Raises:
        InvalidInput: the name is empty or too long (field ``name``), or the language is unknown
            (field ``locale``).
    """
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput(str(_l("Enter your name.")), "name")
    if len(name) > NAME_MAX:
        raise InvalidInput(str(_l("Use at most %(num)d characters.", num=NAME_MAX)), "name")
    if locale not in current_app.config["LANGUAGES"]:
        raise InvalidInput(str(_l("Unknown language.")), "locale")
    changed = [field for field, old, new in (("name", user.name, name), ("locale", user.locale, locale))
               if old != new]
    if changed:
        user.name = name
        user.locale = locale
        audit.record(user, "account.profile_update", user, fields=changed)
        db.session.commit()
    return user


def make_email_token(user: User) -> str:
    """A signed link token for the pending address: bound to it and to the current address."""
    return _serializer().dumps({"uid": user.id, "new": _digest(user.pending_email or ""),
                                "old": _digest(user.email)})


def request_email_change(user: User, new_email: str, password: str) -> None:
    """Keep `new_email` as the pending address and mail a confirmation link to it.

    The answer is the same whether or not the address is free (see the module docstring).

    Raises:
        InvalidInput: the password is not correct (field ``password``), the address is not one
            plain address or is already the current one (field ``new_email``).
    """
    if not verify_password(user.password_hash, password or ""):
        raise InvalidInput(str(_l("The password is not correct.")), "password")
    email = normalise_email(new_email or "")
    try:
        recipient_address(email)
    except InvalidRecipient:
        raise InvalidInput(str(_l("Enter one e-mail address.")), "new_email") from None
    if email == user.email:
        raise InvalidInput(str(_l("This is already the address of your account.")), "new_email")
    user.pending_email = email
    audit.record(user, "account.email_change_request", user)
    owner = db.session.scalar(db.select(User).where(User.email == email))
    if owner is None:
        hours = current_app.config["EMAIL_CHANGE_MAX_AGE"] // 3600
        with force_locale(user.locale or "nl"):
            params = {"name": user.name, "hours": hours,
                      "link": public_url("auth.confirm_email", token=make_email_token(user))}
            queue_mail(email, str(CONFIRM_SUBJECT), str(CONFIRM_BODY) % params)
    elif owner.active:
        logger.info("account.email_change to an address in use user=%s", user.id)
        with force_locale(owner.locale or "nl"):
            params = {"name": owner.name, "login": public_url("auth.login"),
                      "support": current_app.config["SUPPORT_EMAIL"]}
            queue_mail(owner.email, str(TAKEN_SUBJECT), str(TAKEN_BODY) % params)
    db.session.commit()


def user_for_email_token(token: str) -> User | None:
    """The account whose pending address the token confirms, or None (bad, expired or used)."""
    try:
        data = _serializer().loads(token, max_age=current_app.config["EMAIL_CHANGE_MAX_AGE"])
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("uid"), int):
        return None
    user = db.session.get(User, data["uid"])
    if (user is None or not user.active or user.deleted_at is not None or not user.pending_email
            or _digest(user.pending_email) != data.get("new") or _digest(user.email) != data.get("old")):
        return None
    return user


def confirm_email_change(token: str) -> User:
    """Make the pending address the account's address and tell the old address.

    Raises:
        NotFound: the link is invalid, expired or used, or the address was taken meanwhile.
    """
    user = user_for_email_token(token)
    dead = NotFound(str(_l("This confirmation link is invalid or has expired.")))
    if user is None:
        raise dead
    new = user.pending_email
    if db.session.scalar(db.select(User.id).where(User.email == new, User.id != user.id)) is not None:
        raise dead
    old = user.email
    user.email = new
    user.pending_email = None
    audit.record(user, "account.email_change", user)
    with force_locale(user.locale or "nl"):
        params = {"name": user.name, "new": new, "support": current_app.config["SUPPORT_EMAIL"]}
        try:
            queue_mail(old, str(CHANGED_SUBJECT), str(CHANGED_BODY) % params)
        except InvalidRecipient:  # an old address that no longer parses: the change still holds
            logger.warning("account.email_change: old address of user %s cannot be mailed", user.id)
    try:
        db.session.commit()
    except IntegrityError:  # someone took the address between the check and the commit
        db.session.rollback()
        raise dead from None
    return user
