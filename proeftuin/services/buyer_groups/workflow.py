"""Changing buyer groups: a facilitator creates a group from chosen challenges (confirmed and
invited, or kept as a proposal), confirms a proposal, stores the engine's clusters as proposals
or closes a group; a member municipality joins or declines for its own challenge, and the
facilitator is told.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from proeftuin.enums import BuyerGroupStatus, InvitationStatus
from proeftuin.extensions import db
from proeftuin.models import BuyerGroup, BuyerGroupMember, Challenge, User
from proeftuin.policy import is_staff
from proeftuin.services import Conflict, Forbidden, InvalidInput, InvalidTransition, NotFound, audit, matching, notify
from proeftuin.services.buyer_groups.access import get_visible, own_member
from proeftuin.services.buyer_groups.queries import open_memberships
from proeftuin.services.buyer_groups.rules import GROUPABLE_STATUSES, RESPONSES, THRESHOLD
from proeftuin.services.buyer_groups.similarity import _reasons_json, _shared_themes, find_clusters, pair_reasons

logger = logging.getLogger(__name__)

INVITE_TEXT = _l("The support point invites %(municipality)s to join the buyer group \u201c%(group)s\u201d "
                 "with your challenge \u201c%(challenge)s\u201d: municipalities with the same need can share "
                 "one experiment and one procurement.")
INVITE_SUBJECT = _l("Invitation to join a buyer group: %(group)s")
RESPONSE_TEXT = {
    "join": _l("%(municipality)s joined the buyer group \u201c%(group)s\u201d."),
    "decline": _l("%(municipality)s declined to join the buyer group \u201c%(group)s\u201d."),
}


def _validated_members(challenge_ids: Sequence[int]) -> list[Challenge]:
    ids = list(dict.fromkeys(challenge_ids))
    if len(ids) < 2:
        raise InvalidInput(str(_l("Choose at least two challenges of different municipalities.")), "challenge_ids")
    challenges = list(db.session.scalars(sa.select(Challenge).where(Challenge.id.in_(ids))))
    if len(challenges) != len(ids):
        raise NotFound()
    by_id = {c.id: c for c in challenges}
    challenges = [by_id[i] for i in ids]
    if any(c.status not in GROUPABLE_STATUSES for c in challenges):
        raise InvalidInput(str(_l("Only published challenges can form a buyer group.")), "challenge_ids")
    if len({c.organisation_id for c in challenges}) != len(challenges):
        raise InvalidInput(str(_l("A buyer group has one challenge per municipality.")), "challenge_ids")
    return challenges


def _check_free(challenges: Sequence[Challenge], except_group: BuyerGroup | None = None) -> None:
    taken = {cid: g for cid, g in open_memberships(c.id for c in challenges).items()
             if except_group is None or g.id != except_group.id}
    if taken:
        titles = ", ".join(c.title for c in challenges if c.id in taken)
        raise Conflict(str(_l("Already in an open buyer group: %(titles)s", titles=titles)), "challenge_ids")


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not 3 <= len(name) <= 160:
        raise InvalidInput(str(_l("Give the group a name of 3 to 160 characters.")), "name")
    return name


def _reasons_for(challenges: Sequence[Challenge]) -> dict:
    try:
        pairs, mean, lowest = pair_reasons(challenges)
        return _reasons_json(mean, lowest, _shared_themes(challenges), pairs, matching.engine_key())
    except Exception:  # the group is the facilitator's decision; the reasons are a help
        logger.exception("could not compute the reasons of a buyer group")
        return {"themes": [t.value for t in _shared_themes(challenges)], "pairs": []}


def _invite(group: BuyerGroup) -> int:
    count = 0
    for member in group.members:
        challenge = member.challenge
        count += notify.notify_users(
            notify.members(challenge.organisation), "buyer_group.invited", INVITE_TEXT, f"/buyer-groups/{group.id}",
            lambda c=challenge: {"municipality": c.organisation.name, "group": group.name, "challenge": c.title},
            INVITE_SUBJECT, INVITE_TEXT,
        )
    return count


def create(actor: User, name: str, challenge_ids: Sequence[int], confirm: bool = True) -> BuyerGroup:
    """Create a buyer group from chosen challenges: confirmed (and invited) or kept as a proposal.

    Args:
        actor: a facilitator or admin.
        name: the group's name.
        challenge_ids: two or more public challenges, one per municipality, in no open group.
        confirm: confirm and invite each municipality's members now; False keeps a proposal.

    Raises:
        Forbidden: the actor is not staff.
        InvalidInput: name, too few challenges, a non-public one, two of one municipality.
        NotFound: a challenge does not exist.
        Conflict: a challenge is already in an open buyer group.
    """
    if not is_staff(actor):
        raise Forbidden()
    name = _clean_name(name)
    challenges = _validated_members(challenge_ids)
    _check_free(challenges)
    now = datetime.now(UTC)
    group = BuyerGroup(
        name=name, status=BuyerGroupStatus.CONFIRMED if confirm else BuyerGroupStatus.PROPOSED,
        reasons=_reasons_for(challenges), created_by_id=actor.id, confirmed_at=now if confirm else None,
        members=[BuyerGroupMember(challenge_id=c.id, invitation=InvitationStatus.INVITED) for c in challenges],
    )
    db.session.add(group)
    db.session.flush()
    audit.record(actor, "buyer_group.confirm" if confirm else "buyer_group.propose", group,
                 challenges=[c.id for c in challenges])
    if confirm:
        _invite(group)
    db.session.commit()
    return group


def confirm(actor: User, group_id: int, name: str) -> BuyerGroup:
    """Confirm a proposed group (under a possibly new name) and invite its municipalities.

    Raises:
        Forbidden, NotFound, InvalidInput (name), InvalidTransition (not proposed), Conflict.
    """
    if not is_staff(actor):
        raise Forbidden()
    group = get_visible(actor, group_id)
    if group.status != BuyerGroupStatus.PROPOSED:
        raise InvalidTransition(str(_l("Only a proposed group can be confirmed.")))
    group.name = _clean_name(name)
    challenges = [m.challenge for m in group.members]
    if any(c.status not in GROUPABLE_STATUSES for c in challenges):
        raise InvalidInput(str(_l("Only published challenges can form a buyer group.")), "name")
    _check_free(challenges, except_group=group)
    group.status = BuyerGroupStatus.CONFIRMED
    group.confirmed_at = datetime.now(UTC)
    audit.record(actor, "buyer_group.confirm", group, challenges=[c.id for c in challenges])
    _invite(group)
    db.session.commit()
    return group


def store_proposals(actor: User | None = None, threshold: float = THRESHOLD) -> int:
    """Keep the engine's current clusters as proposed groups (for a CLI or a scheduled job).

    A cluster is skipped when one of its challenges is already in an open group.
    Returns the number of groups written.
    """
    written = 0
    for cluster in find_clusters(threshold, explain=True):
        if cluster.taken:
            continue
        group = BuyerGroup(
            name=cluster.suggested_name(), status=BuyerGroupStatus.PROPOSED,
            reasons=cluster.reasons(matching.engine_key()), created_by_id=actor.id if actor else None,
            members=[BuyerGroupMember(challenge_id=c.id) for c in cluster.challenges],
        )
        db.session.add(group)
        db.session.flush()
        audit.record(actor, "buyer_group.propose", group, challenges=[c.id for c in cluster.challenges])
        written += 1
    db.session.commit()
    return written


def respond(user: User, group_id: int, decision: str) -> BuyerGroupMember:
    """A member municipality joins or declines for its own challenge (it may change its mind).

    Raises:
        NotFound: the group is not visible to the user or has no challenge of theirs.
        InvalidInput: unknown decision.
        InvalidTransition: the group is not confirmed, or the answer is already the same.
    """
    group = get_visible(user, group_id)
    member = own_member(user, group)
    if member is None:
        raise NotFound()
    if decision not in RESPONSES:
        raise InvalidInput("unknown decision")
    if group.status != BuyerGroupStatus.CONFIRMED:
        raise InvalidTransition(str(_l("This buyer group is closed.")))
    target = RESPONSES[decision]
    if member.invitation == target:
        raise InvalidTransition(str(_l("Your municipality already gave this answer.")))
    if target == InvitationStatus.JOINED:
        _check_free([member.challenge], except_group=group)
    member.invitation = target
    member.responded_by_id = user.id
    member.responded_at = datetime.now(UTC)
    audit.record(user, f"buyer_group.{decision}", group, challenge_id=member.challenge_id)
    creator = db.session.get(User, group.created_by_id) if group.created_by_id else None
    if creator is not None:
        organisation = member.challenge.organisation
        notify.notify_users([creator], f"buyer_group.{decision}", RESPONSE_TEXT[decision], f"/buyer-groups/{group.id}",
                            lambda: {"municipality": organisation.name, "group": group.name})
    db.session.commit()
    return member


def close(actor: User, group_id: int) -> BuyerGroup:
    """Close a proposed or confirmed group; its challenges are free for another group.

    Raises:
        Forbidden, NotFound, InvalidTransition (already closed).
    """
    if not is_staff(actor):
        raise Forbidden()
    group = get_visible(actor, group_id)
    if group.status == BuyerGroupStatus.CLOSED:
        raise InvalidTransition(str(_l("This buyer group is already closed.")))
    group.status = BuyerGroupStatus.CLOSED
    audit.record(actor, "buyer_group.close", group)
    db.session.commit()
    return group
