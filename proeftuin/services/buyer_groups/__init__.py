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
passage cosine on data: see `bench/buyer_group_threshold.py` and the figures in `rules`.

Where things live: `rules` (thresholds and status sets), `clustering` (average linkage, no
database), `similarity` (the engine's pairs and clusters), `queries` (groups and memberships),
`access` (who may see a group) and `workflow` (create, confirm, respond, close). Callers import
from this package, which re-exports the public names of every module.
"""
from __future__ import annotations

from proeftuin.services import NotFound
from proeftuin.services.buyer_groups.access import can_view, get_visible, own_member, visible_challenge_ids
from proeftuin.services.buyer_groups.clustering import average_linkage
from proeftuin.services.buyer_groups.queries import groupable_query, groups_for, memberships_of, open_memberships
from proeftuin.services.buyer_groups.rules import (
    EXPLAINED_PAIRS,
    GROUPABLE_STATUSES,
    MEMBER_VISIBLE_STATUSES,
    OPEN_GROUP_STATUSES,
    PASSAGE_PAIRS,
    RESPONSES,
    STRONG_THRESHOLD,
    THRESHOLD,
)
from proeftuin.services.buyer_groups.similarity import (
    Cluster,
    PairReason,
    find_clusters,
    pair_reasons,
    similar_challenges,
)
from proeftuin.services.buyer_groups.workflow import (
    INVITE_SUBJECT,
    INVITE_TEXT,
    RESPONSE_TEXT,
    close,
    confirm,
    create,
    respond,
    store_proposals,
)

__all__ = [
    # rules
    "EXPLAINED_PAIRS", "GROUPABLE_STATUSES", "MEMBER_VISIBLE_STATUSES", "OPEN_GROUP_STATUSES", "PASSAGE_PAIRS",
    "RESPONSES", "STRONG_THRESHOLD", "THRESHOLD",
    # clustering
    "average_linkage",
    # similarity
    "Cluster", "PairReason", "find_clusters", "pair_reasons", "similar_challenges",
    # queries
    "groupable_query", "groups_for", "memberships_of", "open_memberships",
    # access
    "can_view", "get_visible", "own_member", "visible_challenge_ids",
    # workflow
    "INVITE_SUBJECT", "INVITE_TEXT", "RESPONSE_TEXT", "close", "confirm", "create", "respond", "store_proposals",
    # read here by tests (`service.NotFound`), as before the split
    "NotFound",
]
