"""Helpers for views that call the matching engine."""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from flask import abort, current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from embeddings import Strength
from proeftuin.extensions import db
from proeftuin.models import MatchSuggestion
from proeftuin.services import InvalidInput, NoGoodMatch, matching
from proeftuin.services.suggestions import Suggestion
from proeftuin.services.texts import kind_of

logger = logging.getLogger(__name__)


def semantic_results(search: Callable[[], list]) -> tuple[list, bool]:
    """Run an engine query; an engine failure shows a notice instead of a 500.

    Returns:
        The results and whether matching was unavailable.
    """
    try:
        return search(), False
    except InvalidInput:
        abort(400)
    except Exception:
        db.session.rollback()
        logger.exception("matching unavailable")
        return [], True


def described_results(search: Callable[[], list]) -> tuple[list, bool, str | None]:
    """Run a "describe what you need" search.

    Returns:
        The results, whether matching was unavailable, and why nothing is shown when the
        description found no real evidence ("short": too short to search, "thin": nothing fits it
        well), else None.
    """
    try:
        return search(), False, None
    except NoGoodMatch as exc:
        return [], False, "short" if "few words" in str(exc) else "thin"
    except InvalidInput:
        abort(400)
    except Exception:
        db.session.rollback()
        logger.exception("matching unavailable")
        return [], True, None


def search_rate_limit() -> str:
    return current_app.config["SEARCH_RATE_LIMIT"]


# ---- how strong a match is, in words ---------------------------------------------------------

BAND_LABELS = {"strong": _l("Strong match"), "good": _l("Good match"), "possible": _l("Possible match")}
SENTENCE_TERMS = 3  # shared terms named in the sentence; the explanation lists them all


@dataclass(frozen=True)
class MatchBand:
    """What a municipality or start-up is shown of a match's strength: a measured band and why.

    `probability` and `precision` are for facilitators' details only.
    """

    band: str
    label: str
    sentence: str
    probability: float
    precision: float


def band_sentence(band: str, terms: Sequence[str]) -> str:
    """One plain sentence of why, from the band and the shared key terms of the explanation."""
    named = ", ".join(terms[:SENTENCE_TERMS])
    if named:
        if band == "strong":
            return _("The texts say much the same thing and share the terms %(terms)s.", terms=named)
        if band == "good":
            return _("Close in meaning, and the texts share the terms %(terms)s.", terms=named)
        return _("Shares the key terms %(terms)s.", terms=named)
    if band == "possible":
        return _("Somewhat close in meaning, few shared words.")
    return _("Close in meaning, few shared words.")


def match_band(strength: Strength | None, terms: Sequence[str]) -> MatchBand | None:
    """The view of a measured strength; None (no band shown) when the engine has no measured model."""
    if strength is None:
        return None
    return MatchBand(band=strength.band, label=str(BAND_LABELS.get(strength.band, strength.band)),
                     sentence=band_sentence(strength.band, terms), probability=strength.probability,
                     precision=strength.precision)


def suggestion_band(suggestion: Suggestion) -> MatchBand | None:
    """The band of a live suggestion, from its raw text parts ("dense" cosine, "lexical" BM25)."""
    return match_band(matching.strength(kind_of(suggestion.target), suggestion.parts), suggestion.terms)


def stored_band(row: MatchSuggestion) -> MatchBand | None:
    """The band of a stored suggestion, from its stored components and the engine that scored it."""
    explanation: Mapping = row.explanation or {}
    return match_band(matching.stored_strength(row.components or {}, row.engine_id),
                      list(explanation.get("terms", [])))


def with_bands(results: Sequence[Suggestion]) -> list[tuple[Suggestion, MatchBand | None]]:
    """Each suggestion with its band, as the result templates iterate them (`for s, band in results`)."""
    return [(s, suggestion_band(s)) for s in results]
