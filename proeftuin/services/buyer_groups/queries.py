"""Reading buyer groups from the database: the groupable (public) challenges, the open group each
challenge is in, the groups a user may list, and the groups of one challenge.
"""
from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from proeftuin.enums import InvitationStatus, Role
from proeftuin.extensions import db
from proeftuin.models import BuyerGroup, BuyerGroupMember, Challenge, User
from proeftuin.policy import is_staff, owns_challenge
from proeftuin.services.buyer_groups.rules import GROUPABLE_STATUSES, MEMBER_VISIBLE_STATUSES, OPEN_GROUP_STATUSES


def groupable_query() -> sa.Select:
    return sa.select(Challenge).where(Challenge.status.in_(GROUPABLE_STATUSES)).order_by(Challenge.id)


def open_memberships(challenge_ids: Iterable[int]) -> dict[int, BuyerGroup]:
    """Challenge id -> the open buyer group it is in (declined invitations do not count)."""
    ids = list(challenge_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(BuyerGroupMember.challenge_id, BuyerGroup)
        .join(BuyerGroupMember.group)
        .where(BuyerGroupMember.challenge_id.in_(ids), BuyerGroup.status.in_(OPEN_GROUP_STATUSES),
               BuyerGroupMember.invitation != InvitationStatus.DECLINED)
        .order_by(BuyerGroup.id)
    ).all()
    return {challenge_id: group for challenge_id, group in rows}


def groups_for(user: User) -> list[BuyerGroup]:
    """Staff: every group. A municipality: the confirmed and closed groups it is invited to."""
    stmt = sa.select(BuyerGroup).order_by(BuyerGroup.created_at.desc(), BuyerGroup.id.desc())
    if not is_staff(user):
        if user.role != Role.MUNICIPALITY or user.organisation_id is None:
            return []
        stmt = stmt.where(
            BuyerGroup.status.in_(MEMBER_VISIBLE_STATUSES),
            BuyerGroup.members.any(BuyerGroupMember.challenge.has(Challenge.organisation_id == user.organisation_id)),
        )
    return list(db.session.scalars(stmt))


def memberships_of(user: User, challenge: Challenge) -> list[BuyerGroupMember]:
    """A challenge's buyer groups: for staff all of them, for the owner the confirmed and closed ones."""
    stmt = (sa.select(BuyerGroupMember).join(BuyerGroupMember.group)
            .where(BuyerGroupMember.challenge_id == challenge.id)
            .order_by(BuyerGroup.created_at.desc(), BuyerGroup.id.desc()))
    if is_staff(user):
        return list(db.session.scalars(stmt))
    if not owns_challenge(user, challenge):
        return []
    return list(db.session.scalars(stmt.where(BuyerGroup.status.in_(MEMBER_VISIBLE_STATUSES))))
