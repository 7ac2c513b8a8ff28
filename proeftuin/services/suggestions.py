"""Suggestions built on the engine: start-ups for a challenge, challenges for a start-up, search.

Text relevance comes from `embeddings` (hybrid BM25 + dense); the structured signals (themes,
region, maturity, deadline) are added here as small, visible score parts, so that the same
explanation serves the municipality, the start-up and the facilitator.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy import orm

from proeftuin.enums import ChallengeStatus, Maturity, SuggestionStatus
from proeftuin.extensions import db
from proeftuin.models import Challenge, MatchSuggestion, Organisation, StartupProfile, User
from proeftuin.policy import is_staff, owns_challenge
from proeftuin.services import NoGoodMatch, matching, outbox
from proeftuin.services import challenges as challenge_service
from proeftuin.services import profiles as profile_service
from proeftuin.services.listing import one_of
from proeftuin.services.texts import CHALLENGE, PROFILE, challenge_text, profile_text

logger = logging.getLogger(__name__)

# Text relevance is the ranker's fused score, in standard deviations above the average candidate.
# Structured signals nudge it by at most these amounts (same unit) and each one is shown in the
# explanation. They are product choices, not fitted: the evaluation data has no structured fields;
# facilitators' accept/reject decisions per score band are the data to tune them on.
WEIGHTS = {"themes": 0.4, "region": 0.2, "maturity": 0.1, "deadline": 0.1}
# "searched": how many documents the text score stood out from (what its band depends on).
SHOWN_TEXT_PARTS = ("lexical", "dense", "searched")
MATURITY_SCORE = {
    Maturity.CONCEPT: 0.0, Maturity.PROTOTYPE: 0.4, Maturity.PILOT_READY: 1.0,
    Maturity.MARKET_READY: 1.0, Maturity.SCALING: 0.8,
}
SUGGESTIONS_PER_CHALLENGE = 10


@dataclass
class Suggestion:
    """One ranked object with the reasons; `target` is a StartupProfile or a Challenge."""

    target: StartupProfile | Challenge
    score: float
    parts: dict[str, float]
    passages: list[tuple[str, str, float]] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)
    reasons: list[dict] = field(default_factory=list)

    def explanation(self) -> dict:
        return {
            "passages": [[q, d, round(s, 3)] for q, d, s in self.passages],
            "terms": self.terms,
            "reasons": self.reasons,
            "parts": {k: round(v, 4) for k, v in self.parts.items()},
        }


def _region_of(challenge: Challenge) -> str:
    return challenge.organisation.region.value


def _structured(challenge: Challenge, profile: StartupProfile, today: date) -> tuple[dict[str, float], list[dict]]:
    parts: dict[str, float] = {}
    reasons: list[dict] = []
    wanted = set(challenge.themes)
    shared = wanted & set(profile.themes)
    overlap = len(shared) / len(wanted) if wanted else 0.0
    parts["themes"] = WEIGHTS["themes"] * overlap
    if shared:
        reasons.append({"code": "themes", "values": sorted(t.value for t in shared)})
    region = _region_of(challenge)
    serves = region in (profile.regions_served or []) or profile.organisation.region.value == region
    parts["region"] = WEIGHTS["region"] if serves else 0.0
    if serves:
        reasons.append({"code": "region", "values": [region]})
    maturity = MATURITY_SCORE.get(profile.maturity, 0.0)
    parts["maturity"] = WEIGHTS["maturity"] * maturity
    if maturity >= 1.0:
        reasons.append({"code": "maturity", "values": [profile.maturity.value]})
    if challenge.deadline is not None and challenge.status == ChallengeStatus.PUBLISHED:
        days = (challenge.deadline - today).days
        parts["deadline"] = WEIGHTS["deadline"] * (1.0 if days >= 14 else max(days, 0) / 14)
        reasons.append({"code": "deadline", "values": [challenge.deadline.isoformat()]})
    return parts, reasons


def _combine(ranked, explain_query: str, explain_language: str, kind: str, pair_of, today: date,
             explain: bool = True, query_vectors=None) -> list[Suggestion]:
    explanations = matching.explain(kind, explain_query, explain_language, [item.id for item in ranked],
                                    query_vectors=query_vectors, with_parts=False) if explain else {}
    model = matching.model_of(kind)
    ids = [item.id for item in ranked]
    # One query for the page, with what the cards show loaded in the same round trips.
    stmt = sa.select(model).where(model.id.in_(ids)).options(
        orm.selectinload(model.organisation), orm.selectinload(model.theme_rows))
    targets = {t.id: t for t in db.session.scalars(stmt)} if ids else {}
    out = []
    for item in ranked:
        target = targets.get(item.id)  # one query for the page, not one per result
        if target is None:
            continue
        challenge, profile = pair_of(target)
        parts = {"text": float(item.score), **{k: float(item.parts[k]) for k in SHOWN_TEXT_PARTS if k in item.parts}}
        structured, reasons = _structured(challenge, profile, today)
        parts.update(structured)
        suggestion = Suggestion(target=target, score=float(item.score) + sum(structured.values()), parts=parts,
                                reasons=reasons)
        explanation = explanations.get(item.id)
        if explanation is not None:
            suggestion.passages = list(explanation.passage_pairs)
            suggestion.terms = list(explanation.shared_terms)
        out.append(suggestion)
    if not any("learned" in item.parts for item in ranked):
        out.sort(key=lambda s: s.score, reverse=True)
    # else: a re-ranking learned from facilitators' decisions (services/learning.py) ordered the
    # text relevance; its order stands, and the structured parts still show as reasons and score.
    return out


# ---- start-ups for a challenge -------------------------------------------------------------

@dataclass
class ProfileFilter:
    theme: str | None = None
    maturity: str | None = None
    region: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> ProfileFilter:
        from proeftuin.enums import Region, Theme
        return cls(
            theme=one_of(args, "theme", Theme.values()),
            maturity=one_of(args, "maturity", Maturity.values()),
            region=one_of(args, "region", Region.values()),
        )


def _profile_ids(filters: ProfileFilter, verified_only: bool = False) -> set[int] | None:
    """The profiles a suggestion may name; None for every indexed one (no filter: no whole-table query)."""
    if not verified_only and not any((filters.theme, filters.maturity, filters.region)):
        return None
    stmt = profile_service.browse_query(
        profile_service.ProfileFilters(theme=filters.theme, maturity=filters.maturity, region=filters.region)
    ).with_only_columns(StartupProfile.id)
    if verified_only:
        stmt = stmt.where(Organisation.verified_at.is_not(None))
    return set(db.session.scalars(stmt))


def startups_for_challenge(challenge: Challenge, filters: ProfileFilter | None = None, k: int = 10,
                           today: date | None = None, verified_only: bool = False) -> list[Suggestion]:
    """Ranked start-up profiles for a challenge, with explanations (verified start-ups only when
    `verified_only`, as for the suggestions a facilitator may accept)."""
    today = today or date.today()
    allowed = _profile_ids(filters or ProfileFilter(), verified_only)
    text = challenge_text(challenge)
    language = challenge.language.value
    vectors = matching.query_vectors(challenge)
    ranked = matching.rank(PROFILE, text, language, allowed, k=k * 2, vectors=vectors)
    suggestions = _combine(ranked, text, language, PROFILE, lambda p: (challenge, p), today, query_vectors=vectors)
    return suggestions[:k]


def refresh_suggestions(challenge: Challenge, k: int = SUGGESTIONS_PER_CHALLENGE) -> int:
    """Write the engine's current top start-ups for a published challenge as MatchSuggestion rows.

    Decided suggestions keep their decision while both texts are unchanged; a rejected pair is
    not proposed again for the same texts. Nothing is proposed for an unverified municipality's
    challenge, and unverified start-ups are not proposed (they cannot be introduced). Returns the
    number of proposed rows written.
    """
    if challenge.status != ChallengeStatus.PUBLISHED or not challenge.organisation.is_verified:
        return 0
    engine_id = matching.engine_key()
    challenge_hash = matching.text_hash(challenge)
    existing = {s.profile_id: s for s in db.session.scalars(
        sa.select(MatchSuggestion).where(MatchSuggestion.challenge_id == challenge.id))}
    written = 0
    for rank, suggestion in enumerate(startups_for_challenge(challenge, k=k, verified_only=True), start=1):
        profile = suggestion.target
        profile_hash = matching.text_hash(profile)
        row = existing.get(profile.id)
        same_texts = row is not None and row.challenge_hash == challenge_hash and row.profile_hash == profile_hash
        if row is not None and row.status != SuggestionStatus.PROPOSED and same_texts:
            continue
        if row is None:
            row = MatchSuggestion(challenge_id=challenge.id, profile_id=profile.id)
            db.session.add(row)
        row.status = SuggestionStatus.PROPOSED if not same_texts else row.status
        row.score = suggestion.score
        row.rank = rank
        row.components = {k: round(v, 4) for k, v in suggestion.parts.items()}
        row.explanation = suggestion.explanation()
        row.engine_id = engine_id
        row.challenge_hash = challenge_hash
        row.profile_hash = profile_hash
        written += 1
    db.session.commit()
    return written


@outbox.handler("challenge.changed")
def _challenge_changed(effect) -> None:
    challenge = db.session.get(Challenge, effect.payload["id"])
    if challenge is None:
        return
    matching.sync_object(challenge)
    refresh_suggestions(challenge)


@outbox.handler("profile.changed")
def _profile_changed(effect) -> None:
    profile = db.session.get(StartupProfile, effect.payload["id"])
    if profile is None:
        return
    matching.sync_object(profile)
    after_profile_change(profile)


def refresh_all(progress=None) -> int:
    """Refresh the suggestions of every published challenge (CLI; never in a request)."""
    published = list(db.session.scalars(
        sa.select(Challenge).where(Challenge.status == ChallengeStatus.PUBLISHED).order_by(Challenge.id)))
    return sum(refresh_suggestions(c) for c in (progress(published) if progress else published))


def after_profile_change(profile: StartupProfile, limit: int = 5) -> None:
    """A profile changed: refresh the few challenges it now fits best (bounded work)."""
    for suggestion in challenges_for_profile(profile, k=limit):
        refresh_suggestions(suggestion.target)


# ---- challenges for a start-up -------------------------------------------------------------

def open_challenge_ids(today: date) -> set[int]:
    """Published challenges of verified municipalities whose deadline has not passed."""
    stmt = sa.select(Challenge.id).join(Challenge.organisation).where(
        Organisation.verified_at.is_not(None),
        Challenge.status == ChallengeStatus.PUBLISHED,
        sa.or_(Challenge.deadline.is_(None), Challenge.deadline >= today),
    )
    return set(db.session.scalars(stmt))


def challenges_for_profile(profile: StartupProfile, k: int = 10, today: date | None = None) -> list[Suggestion]:
    """Open challenges recommended for a start-up profile, with the reasons."""
    today = today or date.today()
    text = profile_text(profile)
    language = profile.language.value
    vectors = matching.query_vectors(profile)
    ranked = matching.rank(CHALLENGE, text, language, open_challenge_ids(today), k=k * 2, vectors=vectors)
    return _combine(ranked, text, language, CHALLENGE, lambda c: (c, profile), today, query_vectors=vectors)[:k]


# ---- "describe what you need" --------------------------------------------------------------

def _visible_challenge_ids(user: User | None, filters: challenge_service.ChallengeFilters) -> set[int]:
    stmt = challenge_service.browse_query(filters).with_only_columns(Challenge.id)
    return set(db.session.scalars(stmt))


def search_challenges(user: User | None, description: str, language: str,
                      filters: challenge_service.ChallengeFilters, k: int = 20) -> list[Suggestion]:
    """Challenges the user may see, ranked by how well they fit a description in any language."""
    _check_description(description)
    ranked = matching.rank(CHALLENGE, description, language, _visible_challenge_ids(user, filters), k=k)
    if ranked and matching.is_thin(CHALLENGE, ranked):
        raise NoGoodMatch("nothing fits this description well")
    return _plain(ranked, CHALLENGE, description, language)


def search_profiles(description: str, language: str, filters: profile_service.ProfileFilters,
                    k: int = 20) -> list[Suggestion]:
    _check_description(description)
    ranked = matching.rank(PROFILE, description, language, _searchable_profile_ids(filters), k=k)
    if ranked and matching.is_thin(PROFILE, ranked):
        raise NoGoodMatch("nothing fits this description well")
    return _plain(ranked, PROFILE, description, language)


def _check_description(description: str) -> None:
    """A description needs a word of three letters or more (e.g. "AI" alone says too little)."""
    if not any(len(word) >= 3 for word in description.split()):
        raise NoGoodMatch("describe what you need in a few words")


def _searchable_profile_ids(filters: profile_service.ProfileFilters) -> set[int] | None:
    """The profiles a search may return: every profile is public, so without filters None (the whole
    index, no query or set that grows with the platform); with filters, their ids, unsorted."""
    if not any((filters.theme, filters.maturity, filters.region, filters.language, filters.q)):
        return None
    stmt = profile_service.browse_query(filters).with_only_columns(StartupProfile.id).order_by(None)
    return set(db.session.scalars(stmt))


def _plain(ranked, kind: str, query: str, language: str) -> list[Suggestion]:
    explanations = matching.explain(kind, query, language, [item.id for item in ranked], with_parts=False)
    model = matching.model_of(kind)
    ids = [item.id for item in ranked]
    # One query for the page, with what the cards show loaded in the same round trips.
    stmt = sa.select(model).where(model.id.in_(ids)).options(
        orm.selectinload(model.organisation), orm.selectinload(model.theme_rows))
    targets = {t.id: t for t in db.session.scalars(stmt)} if ids else {}
    out = []
    for item in ranked:
        target = targets.get(item.id)  # one query for the page, not one per result
        if target is None:
            continue
        explanation = explanations.get(item.id)
        parts = {"text": float(item.score), **{k: float(item.parts[k]) for k in SHOWN_TEXT_PARTS if k in item.parts}}
        out.append(Suggestion(target=target, score=float(item.score), parts=parts,
                              passages=list(explanation.passage_pairs) if explanation else [],
                              terms=list(explanation.shared_terms) if explanation else []))
    return out


def can_see_suggestions(user: User, challenge: Challenge) -> bool:
    return owns_challenge(user, challenge) or is_staff(user)

