"""Who may: the role predicates every service and view asks, defined once (CONVENTIONS 6c).

Route-level declarations (`@allow`) live in `proeftuin.access` and use `STAFF_ROLES` from here;
what a user may do with one object (own, read, manage) is decided by the service that owns the
object, built on these predicates.

Every predicate takes `None`, an anonymous user or a deactivated account and answers False:
Flask-Login's `is_authenticated` is False for an anonymous user and, for a `User`, follows
`User.active`, so a deactivated facilitator is no longer staff anywhere.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from proeftuin.enums import OrgRole, Role

if TYPE_CHECKING:
    from proeftuin.models import Challenge, Organisation, User

STAFF_ROLES = (Role.FACILITATOR, Role.ADMIN)


def is_signed_in(user: User | None) -> bool:
    """A real, active account (not None, not anonymous, not deactivated)."""
    return user is not None and bool(user.is_authenticated)


def is_staff(user: User | None) -> bool:
    """Facilitators and admins of the support point, active accounts only."""
    return is_signed_in(user) and user.role in STAFF_ROLES


def owns_challenge(user: User | None, challenge: Challenge) -> bool:
    """A member of the municipality that wrote the challenge (viewers included: they read it)."""
    return (
        is_signed_in(user)
        and user.role == Role.MUNICIPALITY
        and is_org_member(user, challenge.organisation_id)
    )


def may_change_challenge(user: User | None, challenge: Challenge) -> bool:
    """An admin or member of the municipality that wrote the challenge (not a viewer)."""
    return owns_challenge(user, challenge) and can_act_for_org(user, challenge.organisation_id)


# ---- organisations are teams (issue 10) ------------------------------------------------------

def org_role_in(user: User | None, organisation: Organisation | int | None) -> OrgRole | None:
    """The user's role in `organisation` (an object or its id), or None when not a member of it."""
    if organisation is None or not is_signed_in(user) or user.role not in (Role.MUNICIPALITY, Role.STARTUP):
        return None
    org_id = organisation if isinstance(organisation, int) else organisation.id
    if user.organisation_id is None or user.organisation_id != org_id:
        return None
    return user.org_role


def is_org_member(user: User | None, organisation: Organisation | int | None) -> bool:
    """Any member of the organisation, read-only colleagues included: sees what it sees."""
    return org_role_in(user, organisation) is not None


def can_act_for_org(user: User | None, organisation: Organisation | int | None) -> bool:
    """A member who may change the organisation's content (admins and members, not viewers)."""
    return org_role_in(user, organisation) in (OrgRole.ADMIN, OrgRole.MEMBER)


def is_org_admin(user: User | None, organisation: Organisation | int | None) -> bool:
    """An admin of the organisation: members, invitations, settings."""
    return org_role_in(user, organisation) == OrgRole.ADMIN
