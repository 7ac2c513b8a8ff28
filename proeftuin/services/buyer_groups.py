"""Buyer groups: municipalities with the same need, found by the engine and confirmed by a facilitator.

The engine compares every public challenge with the public challenges of *other* municipalities
(across Dutch, French and English) and keeps the pairs whose similarity reaches `THRESHOLD`. Pairs
become clusters by average linkage with one challenge per municipality; a facilitator reads the
reasons (similarity per pair, the passages that match best, shared key terms, shared themes),
confirms a group under a name and so invites each municipality, whose members join or decline for
their own challenge. A confirmed group can share one experiment and one procurement.

Similarity: the cosine of the two challenges' document vectors (`matching.similarities`,
`matching.similar`), the one vector per object the engine ranks and searches with (its whole-text
vector). Unlike the ranker's fused score (a z-score within one query) it is comparable across
pairs, and unlike the max-pooled passage score it is symmetric. It was chosen over the pooled
passage cosine on data: see `bench/buyer_group_threshold.py` and the figures below.
"""
from __future__ import annotations

import heapq
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from proeftuin.enums import BuyerGroupStatus, ChallengeStatus, InvitationStatus, Role, Theme
from proeftuin.extensions import db
from proeftuin.models import BuyerGroup, BuyerGroupMember, Challenge, User
from proeftuin.policy import is_staff, owns_challenge
from proeftuin.services import (
    Conflict,
    Forbidden,
    InvalidInput,
    InvalidTransition,
    NotFound,
    audit,
    matching,
    notify,
)
from proeftuin.services.texts import CHALLENGE, challenge_text

logger = logging.getLogger(__name__)

# The pair threshold, on the cosine of the challenges' document vectors (USE multilingual v3).
# Chosen on data with `python -m bench.buyer_group_threshold --cache /tmp/bg_cache`: positives are
# the 729 pairs of CORDIS projects funded under the same call topic (evaldata/dev, both qrels files),
# negatives 14,580 random pairs of projects of different topics (20 per positive, seed 7). First
# chosen on the mean passage vector (F1 highest at 0.60: 0.577, ROC AUC 0.949); with the whole-text
# vector used now F1 is 0.586 at 0.60 (precision 0.517, recall 0.678; AUC 0.952, best F1 0.597 at
# 0.615), so 0.60 stays. The max-pooled passage cosine does a little worse (AUC 0.947, best F1
# 0.565 at 0.453). Cross-check on the demo challenges (29 public ones): 6 of the 8 intended pairs
# reach 0.60, the cross-lingual ones included (Schaerbeek fr / Mechelen nl 0.741, Leuven en /
# Hasselt nl 0.699), and Antwerp joins the school-streets group (0.669 with Mechelen, 0.657 with
# Schaerbeek); the heat pairs with Kortrijk stay just below (0.555, 0.553). 2 other pairs reach it
# (informal carers / chronic patients at home 0.624, school streets / early school leaving 0.619),
# needs a facilitator can judge. Precision assumes 1 related pair in 21; among all pairs of a
# large set related pairs are rarer, so the facilitator confirms.
THRESHOLD = 0.60
# The lowest threshold where the bench's precision is at least 0.9 (mean passage vector: 0.908,
# recall 0.122; whole-text vector: 0.901 at 0.732, 0.885 at 0.73, recall 0.18): pairs and clusters
# above it are marked "very similar", so a facilitator can start with the surest.
STRONG_THRESHOLD = 0.73
# Challenges that may join a buyer group: public and not finished (drafts never appear).
GROUPABLE_STATUSES = (ChallengeStatus.PUBLISHED, ChallengeStatus.CLOSED, ChallengeStatus.IN_EXPERIMENT)
OPEN_GROUP_STATUSES = (BuyerGroupStatus.PROPOSED, BuyerGroupStatus.CONFIRMED)
# Statuses a municipality member can see (proposed groups are the support point's working notes).
MEMBER_VISIBLE_STATUSES = (BuyerGroupStatus.CONFIRMED, BuyerGroupStatus.CLOSED)
RESPONSES = {"join": InvitationStatus.JOINED, "decline": InvitationStatus.DECLINED}
PASSAGE_PAIRS = 2
# Passages and key terms are looked up for the most similar pairs of a group only (each lookup
# scores the whole index); the other pairs show their similarity.
EXPLAINED_PAIRS = 10

INVITE_TEXT = _l("The support point invites %(municipality)s to join the buyer group \u201c%(group)s\u201d "
                 "with your challenge \u201c%(challenge)s\u201d: municipalities with the same need can share "
                 "one experiment and one procurement.")
INVITE_SUBJECT = _l("Invitation to join a buyer group: %(group)s")
RESPONSE_TEXT = {
    "join": _l("%(municipality)s joined the buyer group \u201c%(group)s\u201d."),
    "decline": _l("%(municipality)s declined to join the buyer group \u201c%(group)s\u201d."),
}


# ---- clustering (no database) --------------------------------------------------------------

def _cohesion(sims: np.ndarray, cluster: Sequence[int]) -> float:
    """The mean similarity of a cluster's pairs."""
    block = sims[np.ix_(cluster, cluster)]
    return float((block.sum() - np.trace(block)) / (len(cluster) * (len(cluster) - 1)))


def _one_per_owner(sims: np.ndarray, cluster: list[int], owners: Sequence[int], threshold: float) -> list[int]:
    """Keep one member per owner (the closest to the others), then trim until the mean pair reaches threshold."""

    def closeness(member: int, among: list[int]) -> float:
        others = [m for m in among if owners[m] != owners[member]]
        return float(sims[member, others].mean()) if others else 0.0

    kept = []
    for owner in dict.fromkeys(owners[m] for m in cluster):
        candidates = [m for m in cluster if owners[m] == owner]
        kept.append(max(candidates, key=lambda m: (closeness(m, cluster), -m)))
    kept.sort()
    while len(kept) > 2 and _cohesion(sims, kept) < threshold:
        kept.remove(min(kept, key=lambda m: (closeness(m, kept), -m)))
    if len(kept) < 2 or _cohesion(sims, kept) < threshold:
        return []
    return kept


def average_linkage(sims: np.ndarray, owners: Sequence[int], threshold: float = THRESHOLD) -> list[list[int]]:
    """Clusters by average linkage, then one member per owner (municipality).

    Clusters merge, most similar first, while the average similarity of their cross pairs is at
    least `threshold`. Connected components of the pair graph chain on larger sets (on the CORDIS
    check 661 of 717 projects end in one component at 0.60, against 42 at most by average
    linkage); the average keeps every member close to the whole group. Then each cluster keeps,
    per owner, the member closest to the other owners' members (a municipality's own challenges
    are never grouped with each other; the others stay "near"), and drops its least close members
    while the mean similarity of its pairs is below `threshold`.

    Merging first and choosing per owner afterwards keeps a group whole when one municipality
    wrote two related challenges: forbidding same-owner merges instead would split it in two.

    Args:
        sims: the (n, n) similarity matrix.
        owners: per position, its owner.
        threshold: the lowest average similarity of a merge, and of a cluster's pairs.

    Returns:
        The clusters of two or more positions of different owners, each sorted, most cohesive first.
    """
    n = len(owners)
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    heap: list[tuple[float, int, int]] = []
    rows, cols = np.nonzero(np.triu(sims >= threshold, k=1))
    for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
        heap.append((-float(sims[i, j]), i, j))
    heapq.heapify(heap)
    next_id = n
    while heap:
        _, a, b = heapq.heappop(heap)
        if a not in members or b not in members:
            continue  # ids are never reused, so a live pair's value is still current
        new = next_id
        next_id += 1
        members[new] = members.pop(a) + members.pop(b)
        for other in list(members):
            if other == new:
                continue
            block = sims[np.ix_(members[new], members[other])]
            if float(block.max()) < threshold:
                continue
            value = float(block.mean())
            if value >= threshold:
                heapq.heappush(heap, (-value, other, new))
    clusters = [kept for m in members.values() if len(m) > 1
                if (kept := _one_per_owner(sims, sorted(m), owners, threshold))]
    clusters.sort(key=lambda c: (-_cohesion(sims, c), c))
    return clusters


# ---- the engine's view of the public challenges --------------------------------------------

@dataclass
class PairReason:
    """Why two challenges of different municipalities describe the same need."""

    a: Challenge
    b: Challenge
    similarity: float
    passages: list[tuple[str, str, float]] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)
    themes: list[Theme] = field(default_factory=list)

    @property
    def strong(self) -> bool:
        return self.similarity >= STRONG_THRESHOLD

    def as_json(self) -> dict:
        return {"a": self.a.id, "b": self.b.id, "similarity": round(self.similarity, 4),
                "passages": [[p, q, round(s, 3)] for p, q, s in self.passages], "terms": self.terms,
                "themes": [t.value for t in self.themes]}


@dataclass
class Cluster:
    """A proposed buyer group: challenges of different municipalities and the reasons."""

    challenges: list[Challenge]
    similarity: float
    min_similarity: float
    pairs: list[PairReason]
    themes: list[Theme]
    near: list[tuple[Challenge, float]] = field(default_factory=list)
    taken: dict[int, BuyerGroup] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return ",".join(str(c.id) for c in sorted(self.challenges, key=lambda c: c.id))

    @property
    def strong(self) -> bool:
        return self.similarity >= STRONG_THRESHOLD

    def suggested_name(self) -> str:
        return self.challenges[0].title[:160]

    def reasons(self, engine_id: str) -> dict:
        return _reasons_json(self.similarity, self.min_similarity, self.themes, self.pairs, engine_id)


def _reasons_json(similarity: float, min_similarity: float, themes: Iterable[Theme], pairs: list[PairReason],
                  engine_id: str) -> dict:
    return {"engine": engine_id, "measure": "document_cosine", "threshold": THRESHOLD,
            "similarity": round(similarity, 4), "min_similarity": round(min_similarity, 4),
            "themes": [t.value for t in themes], "pairs": [p.as_json() for p in pairs]}


def groupable_query() -> sa.Select:
    return sa.select(Challenge).where(Challenge.status.in_(GROUPABLE_STATUSES)).order_by(Challenge.id)


@dataclass
class _Table:
    challenges: list[Challenge]
    sims: np.ndarray


def _indexed(challenges: Iterable[Challenge]) -> list[Challenge]:
    """The challenges the engine has vectors for."""
    indexed = matching.indexed_ids(CHALLENGE)
    return [c for c in challenges if c.id in indexed]


def _table(challenges: Iterable[Challenge]) -> _Table:
    """The similarity matrix of the challenges the engine has vectors for.

    Exact and dense, (n, n): fine for the few thousand public challenges a platform of
    municipalities holds (4,000 take 64 MB for a moment); past that, the engine's vector index of
    the same vectors would propose each challenge's neighbours instead.
    """
    kept = _indexed(challenges)
    return _Table(kept, matching.similarities(CHALLENGE, [c.id for c in kept]))


def _shared_themes(challenges: Sequence[Challenge]) -> list[Theme]:
    common = set(challenges[0].themes)
    for challenge in challenges[1:]:
        common &= set(challenge.themes)
    return sorted(common, key=lambda t: list(Theme).index(t))


def _pairs(table: _Table, positions: Sequence[int], explain: bool) -> list[PairReason]:
    """Every pair of the positions, most similar first, the first `EXPLAINED_PAIRS` explained."""
    found = sorted(((float(table.sims[p, q]), p, q) for n, p in enumerate(positions) for q in positions[n + 1:]),
                   key=lambda item: -item[0])
    return [_pair(table.challenges[p], table.challenges[q], value, explain and rank < EXPLAINED_PAIRS)
            for rank, (value, p, q) in enumerate(found)]


def _pair(a: Challenge, b: Challenge, similarity: float, explain: bool) -> PairReason:
    reason = PairReason(a=a, b=b, similarity=similarity, themes=_shared_themes([a, b]))
    if explain:
        explanation = matching.explain(CHALLENGE, challenge_text(a), a.language.value, [b.id], top=PASSAGE_PAIRS,
                                       query_vectors=matching.stored_vectors(CHALLENGE, a.id)).get(b.id)
        if explanation is not None:
            reason.passages = list(explanation.passage_pairs)
            reason.terms = list(explanation.shared_terms)
    return reason


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


def find_clusters(threshold: float = THRESHOLD, explain: bool = True) -> list[Cluster]:
    """The engine's proposed buyer groups among all groupable challenges (the heavy part).

    Safe to call from a page (the set of public challenges is small) or from a CLI command.

    Args:
        threshold: the pair similarity a cluster's average must reach.
        explain: add the best passage pairs and shared key terms per pair (slower).

    Returns:
        The clusters, most cohesive first, each with its reasons and the challenges that are close
        to a member without joining it (`near`).
    """
    table = _table(db.session.scalars(groupable_query()))
    owners = [c.organisation_id for c in table.challenges]
    clusters = []
    memberships = open_memberships(c.id for c in table.challenges)
    for positions in average_linkage(table.sims, owners, threshold):
        block = table.sims[np.ix_(positions, positions)]
        # Order the members by how close each is to the rest: the most central one names the group.
        centrality = block.sum(axis=1)
        positions = [positions[i] for i in np.argsort(-centrality, kind="stable")]
        members = [table.challenges[p] for p in positions]
        pairs = _pairs(table, positions, explain)
        values = [r.similarity for r in pairs]
        member_owners = {owners[p] for p in positions}
        near = []
        for other in range(len(table.challenges)):
            if other in positions or owners[other] in member_owners:
                continue
            best = float(table.sims[other, positions].max())
            if best >= threshold:
                near.append((table.challenges[other], best))
        near.sort(key=lambda item: -item[1])
        clusters.append(Cluster(
            challenges=members, similarity=sum(values) / len(values), min_similarity=min(values), pairs=pairs,
            themes=_shared_themes(members), near=near,
            taken={c.id: memberships[c.id] for c in members if c.id in memberships},
        ))
    return clusters


def similar_challenges(user: User, challenge: Challenge, k: int = 5, threshold: float = THRESHOLD,
                       explain: bool = True) -> list[PairReason]:
    """Public challenges of other municipalities that describe the same need as `challenge`.

    Only the owning municipality and staff may ask; the results are groupable (public) challenges
    only, so no draft and nothing private of another municipality can appear.

    Raises:
        NotFound: the user is neither the owner nor staff.
    """
    if not (owns_challenge(user, challenge) or is_staff(user)):
        raise NotFound()
    if challenge.id not in matching.indexed_ids(CHALLENGE):
        return []
    others = {c.id: c for c in _indexed(db.session.scalars(groupable_query().where(
        Challenge.organisation_id != challenge.organisation_id)))}
    if not others:
        return []
    hits = matching.similar(CHALLENGE, challenge.id, set(others), k, threshold)
    return [_pair(challenge, others[hit.id], hit.score, explain) for hit in hits]


def pair_reasons(challenges: Sequence[Challenge], explain: bool = True) -> tuple[list[PairReason], float, float]:
    """The reasons for a chosen set of challenges: every pair, with the mean and lowest similarity."""
    table = _table(challenges)
    pairs = _pairs(table, range(len(table.challenges)), explain)
    values = [r.similarity for r in pairs] or [0.0]
    return pairs, sum(values) / len(values), min(values)


# ---- who may do what -----------------------------------------------------------------------

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


# ---- changes -------------------------------------------------------------------------------

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
