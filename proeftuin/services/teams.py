"""Organisations as teams: members and their roles, invitations by e-mail, join requests.

Rules (issue 10):

- every municipality or start-up account belongs to at most one organisation, with a role in it:
  admin (members, invitations, settings), member (changes the organisation's content) or viewer
  (sees what the organisation sees, changes nothing); `proeftuin.policy` answers who may;
- an admin invites by e-mail: a single-use link valid for `INVITATION_DAYS` days, of which only the
  SHA-256 is stored; re-sending issues a new token (the old link dies), revoking kills it;
- someone who registers for an organisation that already exists asks to join: the account has no
  organisation until an admin approves (it sees nothing of the organisation before);
- the last admin can neither leave, nor be removed or demoted: hand over first;
- a removed member (or one who leaves) loses every session at once (`User.session_version`).

Every change is audited, and the person it concerns is mailed (through the outbox, after commit,
in their own language).
"""
from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask_babel import force_locale, format_datetime
from flask_babel import lazy_gettext as _l

from proeftuin.enums import JoinRequestStatus, LabelledEnum, OrgKind, OrgRole, Role
from proeftuin.extensions import db
from proeftuin.links import public_url
from proeftuin.models import Invitation, JoinRequest, Organisation, User
from proeftuin.policy import is_org_admin, is_org_member, is_staff
from proeftuin.services import Conflict, Forbidden, InvalidInput, NotFound, audit
from proeftuin.services.mail import InvalidRecipient, queue_mail, recipient_address

logger = logging.getLogger(__name__)

INVITATION_DAYS = 7
ROLE_OF_KIND = {OrgKind.MUNICIPALITY: Role.MUNICIPALITY, OrgKind.STARTUP: Role.STARTUP}

INVITE_SUBJECT = _l("%(inviter)s invites you to join %(organisation)s on Proeftuin")
INVITE_BODY = _l(
    "Hello,\n\n%(inviter)s invites you to join %(organisation)s on Proeftuin as %(role)s.\n\n"
    "Accept the invitation here (the link works once, until %(expires)s):\n%(link)s\n\n"
    "If you do not know %(organisation)s or did not expect this, ignore this message.\n"
)
ACCEPTED_SUBJECT = _l("%(member)s joined %(organisation)s")
ACCEPTED_BODY = _l("Hello %(name)s,\n\n%(member)s accepted your invitation and is now %(role)s of "
                   "%(organisation)s.\nThe members of your organisation: %(link)s\n")
REQUEST_SUBJECT = _l("%(requester)s asks to join %(organisation)s")
REQUEST_BODY = _l(
    "Hello %(name)s,\n\n%(requester)s (%(email)s) registered on Proeftuin and asks to join "
    "%(organisation)s.\n%(message)s\nApprove or refuse the request on your organisation's page:\n%(link)s\n\n"
    "Until you approve, this person sees nothing of your organisation.\n"
)
REQUESTED_SUBJECT = _l("Your request to join %(organisation)s was sent")
REQUESTED_BODY = _l("Hello %(name)s,\n\nYour account is ready, and your request to join %(organisation)s was sent "
                    "to its admins. You will get a message when they decide; until then you see nothing of the "
                    "organisation. Log in here:\n%(link)s\n")
APPROVED_SUBJECT = _l("You are now a member of %(organisation)s")
APPROVED_BODY = _l("Hello %(name)s,\n\nAn admin of %(organisation)s approved your request: you are now "
                   "%(role)s of the organisation. Log in here:\n%(link)s\n")
REFUSED_SUBJECT = _l("Your request to join %(organisation)s")
REFUSED_BODY = _l("Hello %(name)s,\n\nAn admin of %(organisation)s refused your request to join it. "
                  "If you think this is a mistake, ask a colleague to invite you.\n")
ROLE_SUBJECT = _l("Your role in %(organisation)s changed")
ROLE_BODY = _l("Hello %(name)s,\n\n%(actor)s changed your role in %(organisation)s from %(old)s to "
               "%(new)s.\nYour organisation's page: %(link)s\n")
REMOVED_SUBJECT = _l("You are no longer a member of %(organisation)s")
REMOVED_BODY = _l("Hello %(name)s,\n\n%(actor)s removed you from %(organisation)s on Proeftuin. You were "
                  "logged out, and you no longer see what the organisation sees.\n"
                  "If you think this is a mistake, contact an admin of %(organisation)s.\n")
LEFT_SUBJECT = _l("You left %(organisation)s")
LEFT_BODY = _l("Hello %(name)s,\n\nYou left %(organisation)s on Proeftuin and were logged out. Your "
               "account stays; a colleague can invite you again.\n")

LAST_ADMIN = _l("The organisation needs at least one admin: make another member admin first.")
INVALID_LINK = _l("This invitation link is invalid, has expired or was already used.")


def hash_token(token: str) -> str:
    """The SHA-256 hex digest stored for an invitation token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def is_pending(invitation: Invitation, now: datetime | None = None) -> bool:
    """Not accepted, not revoked and not expired."""
    return (invitation.accepted_at is None and invitation.revoked_at is None
            and _aware(invitation.expires_at) > (now or _now()))


def _team_org(user: User) -> Organisation:
    org = user.organisation
    if org is None or org.kind not in ROLE_OF_KIND or not is_org_member(user, org):
        raise NotFound()
    return org


def _admin_org(actor: User) -> Organisation:
    org = _team_org(actor)
    if not is_org_admin(actor, org):
        raise Forbidden(str(_l("Only an admin of the organisation can do this.")))
    return org


def _lock(org: Organisation) -> None:
    """Serialise member changes of one organisation (PostgreSQL row lock; SQLite locks the file)."""
    db.session.execute(sa.select(Organisation.id).where(Organisation.id == org.id).with_for_update())


def members(org: Organisation) -> list[User]:
    """The organisation's members, admins first, then by name."""
    order = sa.case({OrgRole.ADMIN: 0, OrgRole.MEMBER: 1}, value=User.org_role, else_=2)
    return list(db.session.scalars(
        sa.select(User).where(User.organisation_id == org.id, User.org_role.is_not(None), User.deleted_at.is_(None))
        .order_by(order, User.name, User.id)))


def _admin_count(org: Organisation) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
        User.organisation_id == org.id, User.org_role == OrgRole.ADMIN, User.active.is_(True),
        User.deleted_at.is_(None))) or 0


def _mail(user_or_email: User | str, locale: str | None, subject, body, params: dict) -> None:
    to = user_or_email.email if isinstance(user_or_email, User) else user_or_email
    with force_locale(locale or "nl"):
        values = {k: (v.label if isinstance(v, LabelledEnum) else str(v)) for k, v in params.items()}
        if isinstance(user_or_email, User):
            values.setdefault("name", user_or_email.name)
        queue_mail(to, str(subject) % values, str(body) % values)


def _org_link() -> str:
    return public_url("organisation.index")


# ---- invitations -----------------------------------------------------------------------------

@dataclass
class IssuedInvitation:
    """The stored invitation and the token its link carries (only ever in the mail)."""

    invitation: Invitation
    token: str


def pending_invitations(org: Organisation) -> list[Invitation]:
    rows = db.session.scalars(sa.select(Invitation).where(
        Invitation.organisation_id == org.id, Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
        .order_by(Invitation.sent_at.desc(), Invitation.id.desc()))
    return list(rows)


def _issue(invitation: Invitation, actor: User) -> str:
    """Give the invitation a fresh token and expiry, and queue its mail (the caller commits)."""
    token = secrets.token_urlsafe(32)
    invitation.token_hash = hash_token(token)
    invitation.sent_at = _now()
    invitation.expires_at = invitation.sent_at + timedelta(days=INVITATION_DAYS)
    existing = db.session.scalar(sa.select(User).where(User.email == invitation.email))
    locale = (existing.locale if existing is not None else None) or actor.locale
    with force_locale(locale or "nl"):
        expires = format_datetime(invitation.expires_at, "medium")
    _mail(invitation.email, locale, INVITE_SUBJECT, INVITE_BODY, {
        "inviter": actor.name, "organisation": invitation.organisation.name, "role": invitation.role,
        "expires": expires, "link": public_url("organisation.invitation", token=token)})
    return token


def invite(actor: User, email: str, role: OrgRole) -> IssuedInvitation:
    """Invite a colleague to the actor's organisation by e-mail.

    Raises:
        NotFound / Forbidden: the actor is not a member / not an admin of an organisation.
        InvalidInput: the address is not one plain e-mail address (field ``email``).
        Conflict: the address is already a member, or already has a pending invitation.
    """
    from proeftuin.services.accounts import normalise_email

    org = _admin_org(actor)
    email = normalise_email(email or "")
    try:
        recipient_address(email)
    except InvalidRecipient:
        raise InvalidInput(str(_l("Enter one e-mail address.")), "email") from None
    if not isinstance(role, OrgRole):
        raise InvalidInput(str(_l("Choose a role.")), "role")
    member = db.session.scalar(sa.select(User).where(User.email == email))
    if member is not None and member.organisation_id == org.id and member.org_role is not None:
        raise Conflict(str(_l("This person is already a member of your organisation.")), "email")
    if any(inv.email == email and is_pending(inv) for inv in pending_invitations(org)):
        raise Conflict(str(_l("This address already has a pending invitation; send it again from the list.")),
                       "email")
    invitation = Invitation(organisation=org, organisation_id=org.id, email=email, role=role,
                            invited_by_id=actor.id, token_hash="", expires_at=_now())
    db.session.add(invitation)
    token = _issue(invitation, actor)
    db.session.flush()
    audit.record(actor, "organisation.invite", invitation, email=email, role=role.value)
    db.session.commit()
    return IssuedInvitation(invitation, token)


def _own_invitation(actor: User, invitation_id: int) -> Invitation:
    org = _admin_org(actor)
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.organisation_id != org.id:
        raise NotFound()
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise Conflict(str(_l("This invitation was already accepted or revoked.")))
    return invitation


def resend(actor: User, invitation_id: int) -> IssuedInvitation:
    """Send the invitation again with a new token and a new expiry; the old link stops working.

    Raises:
        NotFound: not an invitation of the actor's organisation. Forbidden: not an admin.
        Conflict: the invitation was accepted or revoked.
    """
    invitation = _own_invitation(actor, invitation_id)
    token = _issue(invitation, actor)
    audit.record(actor, "organisation.invitation_resend", invitation, email=invitation.email)
    db.session.commit()
    return IssuedInvitation(invitation, token)


def revoke(actor: User, invitation_id: int) -> Invitation:
    """Revoke a pending invitation: its link stops working. Raises as `resend`."""
    invitation = _own_invitation(actor, invitation_id)
    invitation.revoked_at = _now()
    audit.record(actor, "organisation.invitation_revoke", invitation, email=invitation.email)
    db.session.commit()
    return invitation


def invitation_for_token(token: str) -> Invitation | None:
    """The pending invitation of this token, or None (unknown, used, revoked or expired)."""
    if not token or len(token) > 200:
        return None
    invitation = db.session.scalar(sa.select(Invitation).where(Invitation.token_hash == hash_token(token)))
    return invitation if invitation is not None and is_pending(invitation) else None


def address_has_account(email: str) -> bool:
    """Whether the invited address has an account (it then logs in and joins)."""
    return db.session.scalar(sa.select(User.id).where(User.email == email)) is not None


def _valid_invitation(token: str) -> Invitation:
    invitation = invitation_for_token(token)
    if invitation is None:
        raise NotFound(str(INVALID_LINK))
    # Claim it: a second acceptance in parallel finds accepted_at set (PostgreSQL row lock).
    db.session.execute(sa.select(Invitation.id).where(Invitation.id == invitation.id).with_for_update())
    return invitation


def _join(user: User, org: Organisation, role: OrgRole) -> None:
    user.organisation = org
    user.organisation_id = org.id
    user.role = ROLE_OF_KIND[org.kind]
    user.org_role = role
    for request in db.session.scalars(sa.select(JoinRequest).where(
            JoinRequest.user_id == user.id, JoinRequest.status == JoinRequestStatus.PENDING)):
        request.status = JoinRequestStatus.WITHDRAWN
        request.decided_at = _now()


def _accepted(invitation: Invitation, user: User) -> None:
    invitation.accepted_at = _now()
    invitation.accepted_by_id = user.id
    audit.record(user, "organisation.invitation_accept", invitation, role=invitation.role.value)
    inviter = db.session.get(User, invitation.invited_by_id) if invitation.invited_by_id else None
    if inviter is not None and inviter.active and inviter.organisation_id == invitation.organisation_id:
        _mail(inviter, inviter.locale, ACCEPTED_SUBJECT, ACCEPTED_BODY, {
            "member": user.name, "organisation": invitation.organisation.name, "role": invitation.role,
            "link": _org_link()})
    db.session.commit()


def accept_as_new(token: str, name: str, password: str, locale: str | None = None) -> User:
    """Create the invited person's account in the organisation ("choose your name and password").

    Raises:
        NotFound: the link is invalid, expired, revoked or used.
        Conflict: the address has an account already (log in and join instead).
        InvalidInput: the name is empty or the password breaks the policy.
    """
    from proeftuin.services.accounts import check_password_policy
    from proeftuin.services.passwords import hash_password

    invitation = _valid_invitation(token)
    if db.session.scalar(sa.select(User.id).where(User.email == invitation.email)) is not None:
        raise Conflict(str(_l("This address has an account already: log in to join.")))
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput(str(_l("Enter your name.")), "name")
    check_password_policy(password)
    user = User(email=invitation.email, name=name[:120], password_hash=hash_password(password),
                role=ROLE_OF_KIND[invitation.organisation.kind], locale=locale)
    db.session.add(user)
    _join(user, invitation.organisation, invitation.role)
    db.session.flush()
    audit.record(user, "account.register_invited", user)
    _accepted(invitation, user)
    return user


def accept_as_existing(user: User, token: str) -> User:
    """A signed-in user of no organisation joins through an invitation to their own address.

    Raises:
        NotFound: the link is invalid, expired, revoked or used.
        Forbidden: the invitation is for another address, or the user is staff.
        Conflict: the user belongs to an organisation already (leave it first).
    """
    invitation = _valid_invitation(token)
    if is_staff(user) or user.email != invitation.email:
        raise Forbidden(str(_l("This invitation is for another e-mail address.")))
    if user.organisation_id is not None:
        raise Conflict(str(_l("You already belong to an organisation; leave it first.")))
    _join(user, invitation.organisation, invitation.role)
    _accepted(invitation, user)
    return user


# ---- join requests ---------------------------------------------------------------------------

def pending_join_requests(org: Organisation) -> list[JoinRequest]:
    return list(db.session.scalars(sa.select(JoinRequest).where(
        JoinRequest.organisation_id == org.id, JoinRequest.status == JoinRequestStatus.PENDING)
        .order_by(JoinRequest.created_at, JoinRequest.id)))


def my_join_request(user: User) -> JoinRequest | None:
    return db.session.scalar(sa.select(JoinRequest).where(
        JoinRequest.user_id == user.id, JoinRequest.status == JoinRequestStatus.PENDING)
        .order_by(JoinRequest.id.desc()).limit(1))


def requester(join_request: JoinRequest) -> User:
    return db.session.get(User, join_request.user_id)


def existing_startup(name: str) -> Organisation | None:
    """The oldest start-up registered under this name (case and spacing ignored), if any."""
    wanted = " ".join((name or "").split()).lower()
    if not wanted:
        return None
    return db.session.scalar(sa.select(Organisation).where(
        Organisation.kind == OrgKind.STARTUP, sa.func.lower(Organisation.name) == wanted)
        .order_by(Organisation.created_at, Organisation.id).limit(1))


def request_to_join(user: User, org: Organisation, message: str | None = None) -> JoinRequest:
    """Record the new account's request to join `org` and mail its admins (the caller commits).

    The account stays without organisation (and without `org_role`) until an admin approves.
    """
    join_request = JoinRequest(organisation_id=org.id, user_id=user.id,
                               message=(message or "").strip()[:2000] or None)
    db.session.add(join_request)
    db.session.flush()
    audit.record(user, "organisation.join_request", join_request, organisation_id=org.id)
    for admin in (m for m in members(org) if m.org_role == OrgRole.ADMIN and m.active):
        _mail(admin, admin.locale, REQUEST_SUBJECT, REQUEST_BODY, {
            "requester": user.name, "email": user.email, "organisation": org.name,
            "message": f"\n\u201c{join_request.message}\u201d\n" if join_request.message else "",
            "link": _org_link()})
    _mail(user, user.locale, REQUESTED_SUBJECT, REQUESTED_BODY, {"organisation": org.name,
                                                                 "link": public_url("auth.login")})
    return join_request


def decide_join_request(actor: User, request_id: int, approve: bool) -> JoinRequest:
    """Approve (the requester becomes a member) or refuse a pending join request; the requester is mailed.

    Raises:
        NotFound: not a request to the actor's organisation. Forbidden: the actor is not an admin.
        Conflict: the request was decided already, or the requester joined another organisation.
    """
    org = _admin_org(actor)
    join_request = db.session.get(JoinRequest, request_id)
    if join_request is None or join_request.organisation_id != org.id:
        raise NotFound()
    if join_request.status != JoinRequestStatus.PENDING:
        raise Conflict(str(_l("This request was already decided.")))
    person = requester(join_request)
    join_request.decided_at = _now()
    join_request.decided_by_id = actor.id
    if approve:
        if person.organisation_id is not None or not person.active:
            raise Conflict(str(_l("This person belongs to another organisation now.")))
        _join(person, org, OrgRole.MEMBER)
        join_request.status = JoinRequestStatus.APPROVED
        _mail(person, person.locale, APPROVED_SUBJECT, APPROVED_BODY, {
            "organisation": org.name, "role": OrgRole.MEMBER, "link": public_url("auth.login")})
    else:
        join_request.status = JoinRequestStatus.REFUSED
        _mail(person, person.locale, REFUSED_SUBJECT, REFUSED_BODY, {"organisation": org.name})
    audit.record(actor, f"organisation.join_{'approve' if approve else 'refuse'}", join_request,
                 user_id=person.id)
    db.session.commit()
    return join_request


# ---- members ---------------------------------------------------------------------------------

def _member_of(org: Organisation, member_id: int) -> User:
    member = db.session.get(User, member_id)
    if member is None or member.organisation_id != org.id or member.org_role is None:
        raise NotFound()
    return member


def _leave_org(member: User) -> None:
    member.organisation = None
    member.organisation_id = None
    member.org_role = None
    member.session_version += 1  # every session and remember-me cookie of the member ends now


def change_role(actor: User, member_id: int, role: OrgRole) -> User:
    """Give a member another role (an admin may demote themself when another admin remains).

    Raises:
        NotFound / Forbidden: not a member of the actor's organisation / the actor is not its admin.
        Conflict: the last admin would be demoted.
    """
    org = _admin_org(actor)
    if not isinstance(role, OrgRole):
        raise InvalidInput(str(_l("Choose a role.")), "role")
    _lock(org)
    member = _member_of(org, member_id)
    old = member.org_role
    if old == role:
        return member
    if old == OrgRole.ADMIN and _admin_count(org) <= 1:
        raise Conflict(str(LAST_ADMIN))
    member.org_role = role
    audit.record(actor, "organisation.role_change", member, old=old.value, new=role.value)
    _mail(member, member.locale, ROLE_SUBJECT, ROLE_BODY, {
        "actor": actor.name, "organisation": org.name, "old": old, "new": role, "link": _org_link()})
    db.session.commit()
    return member


def remove_member(actor: User, member_id: int) -> User:
    """Remove a colleague from the organisation: their sessions end at once, they see nothing of it.

    Raises:
        NotFound / Forbidden: as `change_role`; Conflict: the actor removes themself (leave instead)
        or the last admin.
    """
    org = _admin_org(actor)
    _lock(org)
    member = _member_of(org, member_id)
    if member.id == actor.id:
        raise Conflict(str(_l("To leave the organisation yourself, use \u201cLeave the organisation\u201d.")))
    if member.org_role == OrgRole.ADMIN and _admin_count(org) <= 1:
        raise Conflict(str(LAST_ADMIN))
    audit.record(actor, "organisation.member_remove", member, role=member.org_role.value)
    _leave_org(member)
    _mail(member, member.locale, REMOVED_SUBJECT, REMOVED_BODY, {"actor": actor.name, "organisation": org.name})
    db.session.commit()
    return member


def leave(actor: User) -> Organisation:
    """The actor leaves their organisation (and is logged out everywhere).

    Raises:
        NotFound: the actor belongs to no organisation. Conflict: the actor is its last admin.
    """
    org = _team_org(actor)
    _lock(org)
    if actor.org_role == OrgRole.ADMIN and _admin_count(org) <= 1:
        raise Conflict(str(_l("You are the last admin: make another member admin before you leave.")))
    audit.record(actor, "organisation.leave", org, role=actor.org_role.value)
    _leave_org(actor)
    _mail(actor, actor.locale, LEFT_SUBJECT, LEFT_BODY, {"organisation": org.name})
    db.session.commit()
    return org


@dataclass
class TeamPage:
    """What /organisation/ shows: the organisation, its members, and for admins what waits."""

    organisation: Organisation
    members: list[User]
    invitations: list[Invitation]
    join_requests: list[tuple[JoinRequest, User]]
    is_admin: bool
    expired_ids: set[int]


def team_page(user: User) -> TeamPage:
    """The organisation page of a member (invitations and join requests for admins only).

    Raises:
        NotFound: the user belongs to no municipality or start-up.
    """
    org = _team_org(user)
    admin = is_org_admin(user, org)
    invitations = pending_invitations(org) if admin else []
    return TeamPage(org, members(org), invitations,
                    [(r, requester(r)) for r in pending_join_requests(org)] if admin else [], admin,
                    {inv.id for inv in invitations if not is_pending(inv)})
