"""Proposing experts for a question: the engine ranks the available experts' descriptions against
the question's text, and a small bonus for a matching area or language breaks near-ties; each
proposal carries its reasons, passages and shared terms.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from proeftuin.models import ExpertProfile, ExpertQuestion
from proeftuin.services import matching
from proeftuin.services.experts.expertise import _available_profiles, _open_loads
from proeftuin.services.texts import EXPERT

# The engine's text score is in standard deviations above the average candidate expert; the
# structured signals nudge it by these amounts and each is shown as a reason. Product choices:
# the text decides, an area or language match breaks near-ties.
AREA_BONUS = 0.5
LANGUAGE_BONUS = 0.25
PROPOSALS = 5


@dataclass
class ExpertProposal:
    """One expert proposed for a question, with the reasons (same shape as a start-up suggestion)."""

    profile: ExpertProfile
    score: float
    parts: dict[str, float]
    open_load: int = 0
    passages: list[tuple[str, str, float]] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)
    reasons: list[dict] = field(default_factory=list)


def question_text(question: ExpertQuestion) -> str:
    return "\n".join(p.strip() for p in (question.title, question.question) if p and p.strip())


def propose_experts(question: ExpertQuestion, k: int = PROPOSALS) -> list[ExpertProposal]:
    """The available experts best suited to a question, best first, with the reasons.

    The engine ranks the experts' own descriptions against the question (any language); a small
    bonus is added when the question's area is one of the expert's areas and when the expert
    speaks the question's language.
    """
    profiles = {p.id: p for p in _available_profiles()}
    if not profiles:
        return []
    text = question_text(question)
    language = question.language.value
    ranked = matching.rank(EXPERT, text, language, set(profiles), k=len(profiles))
    explanations = matching.explain(EXPERT, text, language, [item.id for item in ranked if item.id in profiles])
    loads = _open_loads([p.user_id for p in profiles.values()])
    out: list[ExpertProposal] = []
    for item in ranked:
        profile = profiles.get(item.id)
        if profile is None:  # the engine only proposes; the database decides
            continue
        parts = {"text": float(item.score)}
        reasons: list[dict] = []
        if question.area in (profile.areas or []):
            parts["area"] = AREA_BONUS
            reasons.append({"code": "area", "values": [question.area]})
        if language in (profile.languages or []):
            parts["language"] = LANGUAGE_BONUS
            reasons.append({"code": "language", "values": [language]})
        explanation = explanations.get(profile.id)
        out.append(ExpertProposal(
            profile=profile, score=sum(parts.values()), parts=parts, open_load=loads.get(profile.user_id, 0),
            passages=list(explanation.passage_pairs) if explanation else [],
            terms=list(explanation.shared_terms) if explanation else [], reasons=reasons,
        ))
    out.sort(key=lambda p: p.score, reverse=True)
    return out[:k]
