"""Who may see a buyer group: staff always, a member municipality once the group is confirmed (its
own member row decides); anyone else gets NotFound. Also which member challenges' texts a user
may read.
"""
from __future__ import annotations

from proeftuin.enums import Role
from proeftuin.extensions import db
from proeftuin.models import BuyerGroup, BuyerGroupMember, User
from proeftuin.policy import is_staff
from proeftuin.services import NotFound
from proeftuin.services.buyer_groups.rules import MEMBER_VISIBLE_STATUSES


def own_member(user: User, group: BuyerGroup) -> BuyerGroupMember | None:
    """The member row of the user's municipality in the group (one challenge per municipality)."""
    if user.role != Role.MUNICIPALITY or user.organisation_id is None:
        return None
    return next((m for m in group.members if m.challenge.organisation_id == user.organisation_id), None)


def can_view(user: User, group: BuyerGroup) -> bool:
    if is_staff(user):
        return True
    return group.status in MEMBER_VISIBLE_STATUSES and own_member(user, group) is not None


def get_visible(user: User, group_id: int) -> BuyerGroup:
    """The group if the user may see it: staff, or a member municipality once it is confirmed.

    Raises:
        NotFound: it does not exist or the user may not know it exists.
    """
    group = db.session.get(BuyerGroup, group_id)
    if group is None or not can_view(user, group):
        raise NotFound()
    return group


def visible_challenge_ids(user: User, group: BuyerGroup) -> set[int]:
    """The member challenges whose text the user may read (a member's archived challenge is not)."""
    from proeftuin.services import challenges as challenge_service

    return {m.challenge_id for m in group.members if challenge_service.can_view(user, m.challenge)}
