"""Accounts: registration, authentication, sessions, password reset, staff accounts."""
from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from proeftuin.enums import PROVINCE_TO_REGION, OrgKind, Region, Role
from proeftuin.extensions import db
from proeftuin.models import Municipality, Organisation, User
from proeftuin.services import Conflict, Forbidden, InvalidInput, NotFound, audit
from proeftuin.services.passwords import (
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)

logger = logging.getLogger(__name__)

PASSWORD_MESSAGES = {
    "too_short": _l("Use at least 8 characters."),
    "too_long": _l("Use at most 256 characters."),
    "too_common": _l("This password is too common; choose another one."),
}

# Verified against when the e-mail is unknown, so both paths cost one argon2 check.
_DUMMY_HASH: dict[str, str] = {}


def normalise_email(email: str) -> str:
    return email.strip().lower()


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug or "org"


RESERVED_SLUGS = frozenset({"profile", "new", "mine"})


def unique_slug(name: str) -> str:
    base = slugify(name)[:160]
    slug, n = base, 2
    while slug in RESERVED_SLUGS or db.session.scalar(
        db.select(Organisation.id).where(Organisation.slug == slug)
    ):
        slug, n = f"{base}-{n}", n + 1
    return slug


def check_password_policy(password: str, field: str = "password") -> None:
    problem = password_problem(password)
    if problem:
        raise InvalidInput(str(PASSWORD_MESSAGES[problem]), field=field)


@dataclass
class Registration:
    email: str
    password: str
    name: str
    kind: OrgKind
    organisation_name: str
    municipality_nis: str | None = None
    region: Region | None = None
    website: str | None = None
    locale: str | None = None


def register(data: Registration) -> User:
    """Create an organisation and its first member, in one transaction.

    Raises:
        InvalidInput: the password breaks the policy or the municipality is unknown.
        Conflict: the e-mail or the municipality already has an account.
    """
    check_password_policy(data.password)
    email = normalise_email(data.email)
    if db.session.scalar(db.select(User.id).where(User.email == email)):
        raise Conflict(str(_l("An account with this e-mail address already exists.")), "email")
    if data.kind == OrgKind.MUNICIPALITY:
        municipality = db.session.get(Municipality, data.municipality_nis or "")
        if municipality is None:
            raise InvalidInput(str(_l("Choose a municipality from the list.")), "municipality")
        taken = db.session.scalar(
            db.select(Organisation.id).where(Organisation.municipality_nis == municipality.nis_code)
        )
        if taken:
            raise Conflict(
                str(_l("This municipality already has an account. Ask a colleague to invite you.")),
                "municipality",
            )
        org = Organisation(
            kind=OrgKind.MUNICIPALITY,
            name=municipality.name_nl,
            slug=unique_slug(municipality.name_nl),
            region=PROVINCE_TO_REGION[municipality.province],
            municipality_nis=municipality.nis_code,
            contact_email=email,
        )
        role = Role.MUNICIPALITY
    elif data.kind == OrgKind.STARTUP:
        org = Organisation(
            kind=OrgKind.STARTUP,
            name=data.organisation_name.strip(),
            slug=unique_slug(data.organisation_name),
            region=data.region or Region.ABROAD,
            website=data.website or None,
            contact_email=email,
        )
        role = Role.STARTUP
    else:
        raise InvalidInput(str(_l("Choose municipality or start-up.")), "kind")
    user = User(
        email=email,
        password_hash=hash_password(data.password),
        name=data.name.strip(),
        role=role,
        organisation=org,
        locale=data.locale,
    )
    db.session.add_all([org, user])
    db.session.flush()
    audit.record(user, "account.register", org, kind=org.kind.value)
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(str(_l("An account with this e-mail address already exists.")), "email") from exc
    return user


def authenticate(email: str, password: str) -> User | None:
    """Return the active user with these credentials, or None (same cost either way)."""
    user = db.session.scalar(db.select(User).where(User.email == normalise_email(email)))
    if user is None:
        if "hash" not in _DUMMY_HASH:
            _DUMMY_HASH["hash"] = hash_password("not-a-real-password")
        verify_password(_DUMMY_HASH["hash"], password)
        logger.info("auth.failure unknown account")
        return None
    if not verify_password(user.password_hash, password) or not user.active:
        logger.info("auth.failure user=%s", user.id)
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = datetime.now(UTC)
    db.session.commit()
    logger.info("auth.success user=%s", user.id)
    return user


def end_sessions(user: User) -> None:
    """Invalidate every session and remember-me cookie of this user (logout everywhere)."""
    user.session_version += 1
    audit.record(user, "account.logout", user)
    db.session.commit()


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not verify_password(user.password_hash, current_password):
        raise InvalidInput(str(_l("The current password is not correct.")), "current_password")
    check_password_policy(new_password, "new_password")
    user.password_hash = hash_password(new_password)
    user.session_version += 1
    audit.record(user, "account.password_change", user)
    db.session.commit()


def set_locale(user: User, locale: str) -> None:
    if locale not in current_app.config["LANGUAGES"]:
        raise InvalidInput(str(_l("Unknown language.")))
    user.locale = locale
    db.session.commit()


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def make_reset_token(user: User) -> str:
    """A signed token bound to the current hash: it dies when the password changes."""
    return _reset_serializer().dumps({"uid": user.id, "h": user.password_hash[-16:]})


def user_for_reset_token(token: str) -> User | None:
    try:
        data = _reset_serializer().loads(
            token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"]
        )
    except (BadSignature, SignatureExpired):
        return None
    user = db.session.get(User, data.get("uid")) if isinstance(data, dict) else None
    if user is None or not user.active or user.password_hash[-16:] != data.get("h"):
        return None
    return user


def find_user_for_reset(email: str) -> User | None:
    user = db.session.scalar(db.select(User).where(User.email == normalise_email(email)))
    return user if user is not None and user.active else None


def reset_password(token: str, new_password: str) -> User:
    """Set a new password from a reset token; the token is single-use.

    Raises:
        NotFound: the token is invalid, expired or already used.
    """
    user = user_for_reset_token(token)
    if user is None:
        raise NotFound(str(_l("This reset link is invalid or has expired.")))
    check_password_policy(new_password)
    user.password_hash = hash_password(new_password)
    user.session_version += 1
    audit.record(user, "account.password_reset", user)
    db.session.commit()
    return user


def create_staff_user(
    actor: User | None, email: str, name: str, role: Role, password: str | None = None
) -> User:
    """Create a facilitator or admin account (admins only; the CLI passes actor=None).

    Raises:
        Forbidden: the actor is not an admin.
        Conflict: the e-mail is taken.
    """
    if actor is not None and actor.role != Role.ADMIN:
        raise Forbidden()
    if role not in (Role.FACILITATOR, Role.ADMIN):
        raise InvalidInput("staff role must be facilitator or admin")
    email = normalise_email(email)
    if db.session.scalar(db.select(User.id).where(User.email == email)):
        raise Conflict(str(_l("An account with this e-mail address already exists.")), "email")
    if password is not None:
        check_password_policy(password)
    org = staff_organisation() if role == Role.FACILITATOR else None
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        organisation=org,
        # Without a password the account is unusable until the reset link is followed.
        password_hash=hash_password(password) if password else "!unset",
    )
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "account.create_staff", user, role=role.value)
    db.session.commit()
    return user


def staff_organisation() -> Organisation:
    """The support point organisation facilitators belong to (created on first use)."""
    org = db.session.scalar(
        db.select(Organisation).where(Organisation.kind == OrgKind.FACILITATOR)
    )
    if org is None:
        org = Organisation(
            kind=OrgKind.FACILITATOR,
            name="Proeftuin steunpunt",
            slug=unique_slug("proeftuin-steunpunt"),
            region=Region.BRUSSELS,
            verified_at=datetime.now(UTC),
        )
        db.session.add(org)
    return org


def verify_organisation(actor: User, organisation_id: int) -> Organisation:
    if actor.role != Role.ADMIN:
        raise Forbidden()
    org = db.session.get(Organisation, organisation_id)
    if org is None:
        raise NotFound()
    if org.verified_at is None:
        org.verified_at = datetime.now(UTC)
        audit.record(actor, "organisation.verify", org)
        db.session.commit()
    return org
