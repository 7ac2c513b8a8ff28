"""The engine's view of the public challenges: the similarity table of the challenges it has vectors
for (the cosine of their document vectors), explained pairs (passages, shared terms and themes),
the clusters a facilitator can confirm, and the challenges of other municipalities similar to one.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from proeftuin.enums import Theme
from proeftuin.extensions import db
from proeftuin.models import BuyerGroup, Challenge, User
from proeftuin.policy import is_staff, owns_challenge
from proeftuin.services import NotFound, matching
from proeftuin.services.buyer_groups.clustering import average_linkage
from proeftuin.services.buyer_groups.queries import groupable_query, open_memberships
from proeftuin.services.buyer_groups.rules import EXPLAINED_PAIRS, PASSAGE_PAIRS, STRONG_THRESHOLD, THRESHOLD
from proeftuin.services.texts import CHALLENGE, challenge_text


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
    if not matching.is_indexed(CHALLENGE, challenge.id):
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
