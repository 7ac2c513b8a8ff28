"""Accounts: registration, authentication, sessions, password reset, staff accounts."""
from __future__ import annotations

import logging
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from proeftuin import policy
from proeftuin.enums import PROVINCE_TO_REGION, OrgKind, OrgRole, Region, Role
from proeftuin.extensions import db
from proeftuin.links import public_url
from proeftuin.models import Municipality, Organisation, User
from proeftuin.policy import STAFF_ROLES
from proeftuin.services import Conflict, Forbidden, InvalidInput, NotFound, audit
from proeftuin.services.mail import queue_mail
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
    # Ask to join the municipality or start-up when it already has an account (issue 10).
    join_existing: bool = False
    join_message: str | None = None


@dataclass
class RegistrationResult:
    """What `register` did; the view answers the same in both cases (no account oracle).

    `user` is the new account, or None when the e-mail already had one (its owner was mailed).
    """

    user: User | None

    @property
    def created(self) -> bool:
        return self.user is not None


REGISTER_ATTEMPTS = 3  # a concurrent registration can take the slug we chose; try a fresh one

WELCOME_SUBJECT = _l("Welcome to Proeftuin")
WELCOME_BODY = _l(
    "Hello %(name)s,\n\nYour account for %(organisation)s is ready. Log in here:\n%(login)s\n\n"
    "The support point verifies every new organisation; until then what you publish is not public.\n"
)
ALREADY_SUBJECT = _l("Someone tried to register with your e-mail address")
ALREADY_BODY = _l(
    "Hello %(name)s,\n\nSomeone (perhaps you) tried to register a new Proeftuin account with this "
    "e-mail address, but it already has an account. Nothing was changed.\n\n"
    "Log in here: %(login)s\nForgot your password? Choose a new one here: %(reset)s\n\n"
    "If this was not you, you can ignore this message.\n"
)


def _email_owner(email: str) -> User | None:
    return db.session.scalar(db.select(User).where(User.email == email))


def _municipality_taken(nis_code: str) -> bool:
    return db.session.scalar(
        db.select(Organisation.id).where(Organisation.municipality_nis == nis_code)
    ) is not None


def _municipality_conflict() -> Conflict:
    return Conflict(
        str(_l("This municipality already has an account. Ask a colleague to invite you.")),
        "municipality",
    )


def _check_registration(data: Registration) -> Municipality | None:
    """Shape checks that do not depend on existing accounts (so they cannot reveal any)."""
    check_password_policy(data.password)
    if not data.name.strip():
        raise InvalidInput(str(_l("Enter your name.")), "name")
    if data.kind == OrgKind.MUNICIPALITY:
        municipality = db.session.get(Municipality, data.municipality_nis or "")
        if municipality is None:
            raise InvalidInput(str(_l("Choose a municipality from the list.")), "municipality")
        return municipality
    if data.kind == OrgKind.STARTUP:
        if not data.organisation_name.strip():
            raise InvalidInput(str(_l("Enter the name of your company.")), "organisation_name")
        if data.region is None:
            raise InvalidInput(str(_l("Choose where the company is based.")), "region")
        return None
    raise InvalidInput(str(_l("Choose municipality or start-up.")), "kind")


def _new_account(data: Registration, email: str, password_hash: str,
                 municipality: Municipality | None, retry: bool = False) -> User:
    """Insert the organisation and its first member and commit (IntegrityError on a lost race).

    On a retry the slug gets a random suffix, so racers with the same name do not collide again.
    """

    def slug_for(name: str) -> str:
        return unique_slug(f"{name} {secrets.token_hex(3)}" if retry else name)

    if municipality is not None:
        org = Organisation(
            kind=OrgKind.MUNICIPALITY,
            name=municipality.name_nl,
            slug=slug_for(municipality.name_nl),
            region=PROVINCE_TO_REGION[municipality.province],
            municipality_nis=municipality.nis_code,
            contact_email=email,
        )
        role = Role.MUNICIPALITY
    else:
        name = data.organisation_name.strip()
        org = Organisation(
            kind=OrgKind.STARTUP,
            name=name,
            slug=slug_for(name),
            region=data.region,
            website=data.website or None,
            contact_email=email,
        )
        role = Role.STARTUP
    user = User(email=email, password_hash=password_hash, name=data.name.strip(), role=role,
                organisation=org, org_role=OrgRole.ADMIN, locale=data.locale)
    db.session.add_all([org, user])
    db.session.flush()
    audit.record(user, "account.register", org, kind=org.kind.value)
    db.session.commit()
    return user


def register(data: Registration) -> RegistrationResult:
    """Create an organisation and its first member, in one transaction, and mail the address.

    When the e-mail already has an account nothing is created: its owner gets a "someone tried to
    register with your address" message instead, and the caller answers exactly as for a new
    account. The password is hashed either way, so both paths cost the same.

    Parallel registrations for one e-mail or one municipality: the database's unique constraints
    decide; the losers roll back and get the same answer as if they had come second.

    Raises:
        InvalidInput: the password breaks the policy, the name or region is missing, or the
            municipality is unknown.
        Conflict: the municipality already has an account (field ``municipality``).
    """
    municipality = _check_registration(data)
    email = normalise_email(data.email)
    password_hash = hash_password(data.password)
    for attempt in range(REGISTER_ATTEMPTS):
        if not data.join_existing and municipality is not None and _municipality_taken(municipality.nis_code):
            raise _municipality_conflict()
        existing = _existing_organisation(data, municipality) if data.join_existing else None
        owner = _email_owner(email)
        if owner is not None:
            _mail_existing_owner(owner)
            return RegistrationResult(None)
        try:
            if existing is not None:
                return RegistrationResult(_new_join_request(data, email, password_hash, existing))
            user = _new_account(data, email, password_hash, municipality, retry=attempt > 0)
        except IntegrityError:
            db.session.rollback()
            logger.info("account.register lost a race; checking again")
            continue
        _mail_new_user(user)
        return RegistrationResult(user)
    raise Conflict(str(_l("Registration failed; please try again.")))


def _existing_organisation(data: Registration, municipality: Municipality | None) -> Organisation | None:
    """The organisation a registration that asks to join is for, when it exists already."""
    from proeftuin.services import teams

    if municipality is not None:
        return db.session.scalar(db.select(Organisation).where(Organisation.municipality_nis == municipality.nis_code))
    return teams.existing_startup(data.organisation_name)


def _new_join_request(data: Registration, email: str, password_hash: str, org: Organisation) -> User:
    """An account without organisation that asks `org`'s admins to let it in (issue 10)."""
    from proeftuin.services import teams

    user = User(email=email, password_hash=password_hash, name=data.name.strip(), role=teams.ROLE_OF_KIND[org.kind],
                organisation=None, org_role=None, locale=data.locale)
    db.session.add(user)
    db.session.flush()
    audit.record(user, "account.register", user, kind=org.kind.value, join_request=org.id)
    teams.request_to_join(user, org, data.join_message)
    db.session.commit()
    return user


def _mail_new_user(user: User) -> None:
    """Queue the welcome mail (the account is committed already; the mail is its own small unit)."""
    with force_locale(user.locale or "nl"):
        params = {"name": user.name, "organisation": user.organisation.name,
                  "login": public_url("auth.login")}
        queue_mail(user.email, str(WELCOME_SUBJECT), str(WELCOME_BODY) % params)
    db.session.commit()


def _mail_existing_owner(owner: User) -> None:
    logger.info("account.register existing address user=%s", owner.id)
    if not owner.active:
        return
    with force_locale(owner.locale or "nl"):
        params = {"name": owner.name, "login": public_url("auth.login"),
                  "reset": public_url("auth.reset_request")}
        queue_mail(owner.email, str(ALREADY_SUBJECT), str(ALREADY_BODY) % params)
    db.session.commit()


def rename_organisation(actor: User, name: str) -> Organisation:
    """Correct the name of the actor's own municipality or start-up (the slug stays, so links do).

    A verified organisation that changes its name goes back to the verification queue, so a
    verified account cannot take on another organisation's name.

    Raises:
        Forbidden: the actor is not an admin of a municipality or start-up (members and read-only
            colleagues may not rename it), or the organisation is a municipality, whose official
            name comes from the municipality list.
        InvalidInput: the name is empty or longer than 160 characters.
    """
    org = actor.organisation
    if org is None or actor.role not in (Role.MUNICIPALITY, Role.STARTUP) or not policy.is_org_admin(actor, org):
        raise Forbidden()
    if org.municipality_nis is not None:
        raise Forbidden()
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput(str(_l("Enter the name of your organisation.")), "name")
    if len(name) > 160:
        raise InvalidInput(str(_l("Use at most 160 characters.")), "name")
    if name != org.name:
        audit.record(actor, "organisation.rename", org, old=org.name, new=name)
        org.name = name
        if org.verified_at is not None:
            # A verified name is what others trust: a new one is checked again before it is public.
            org.verified_at = None
            audit.record(actor, "organisation.verification_reset", org, reason="rename")
        db.session.commit()
    return org


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
    with force_locale(user.locale or "nl"):
        params = {"name": user.name, "reset": public_url("auth.reset_request"),
                  "support": current_app.config["SUPPORT_EMAIL"]}
        queue_mail(user.email, str(PASSWORD_CHANGED_SUBJECT), str(PASSWORD_CHANGED_BODY) % params)
    db.session.commit()


PASSWORD_CHANGED_SUBJECT = _l("Your Proeftuin password was changed")
PASSWORD_CHANGED_BODY = _l(
    "Hello %(name)s,\n\nThe password of your Proeftuin account was just changed, and every session "
    "was logged out.\n\nIf you did not do this, choose a new password here: %(reset)s\n"
    "and write to the support point: %(support)s\n"
)


def set_locale(user: User, locale: str) -> None:
    if locale not in current_app.config["LANGUAGES"]:
        raise InvalidInput(str(_l("Unknown language.")))
    user.locale = locale
    db.session.commit()


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


RESET_SUBJECT = _l("Reset your Proeftuin password")
RESET_BODY = _l("Hello %(name)s,\n\nFollow this link within an hour to choose a new password:\n%(link)s\n\n"
                "If you did not ask for this, ignore this message.")
STAFF_SUBJECT = _l("Your Proeftuin facilitator account")
STAFF_BODY = _l("Hello %(name)s,\n\nAn account was created for you. Choose your password here:\n%(link)s\n")


def send_reset_link(email: str) -> None:
    """Queue a password-reset link for the account of `email`, if there is one (same cost either way)."""
    user = find_user_for_reset(email)
    if user is None:
        return
    with force_locale(user.locale or "nl"):
        params = {"name": user.name, "link": public_url("auth.reset_password", token=make_reset_token(user))}
        queue_mail(user.email, str(RESET_SUBJECT), str(RESET_BODY) % params)
    db.session.commit()


def send_staff_welcome(user: User) -> None:
    """Queue the mail that lets a new staff member choose a password."""
    with force_locale(user.locale or "nl"):
        params = {"name": user.name, "link": public_url("auth.reset_password", token=make_reset_token(user))}
        queue_mail(user.email, str(STAFF_SUBJECT), str(STAFF_BODY) % params)
    db.session.commit()


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
    if role not in STAFF_ROLES:
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
