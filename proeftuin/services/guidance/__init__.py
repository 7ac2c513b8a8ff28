"""Procedure guidance: the route texts (a data file), the route recommender and the pre-publication check.

The texts of the procurement routes, their sources and the thresholds live in
`proeftuin/data/procurement_routes.json`, which facilitators edit without code. `load_routes`
validates that file and reloads it when it changes. `recommend` turns five answers into one to
three routes with the reason for each (a short, readable rule set). `check_challenge` lists the
common flaws of a challenge text before it is published; the findings are warnings, not a block.

Where things live: `catalogue` (the route file), `route_choice` (who may use the guidance for a
challenge, setting its route), `recommender` (the questionnaire's rules) and `publication_check`
(the pre-publication check). Callers import from this package, which re-exports the public names
of every module.
"""
from __future__ import annotations

from proeftuin.services import InvalidInput, NotFound
from proeftuin.services.guidance.catalogue import (
    LANGUAGES,
    PLACEHOLDER,
    ROUTE_FIELDS,
    ROUTES_FILE,
    THRESHOLD_KEYS,
    Catalogue,
    RouteFileError,
    RouteGuide,
    Source,
    Threshold,
    euro,
    load_routes,
    read_catalogue,
    routes_path,
    validate_catalogue,
)
from proeftuin.services.guidance.publication_check import (
    ADVICE,
    ERROR,
    MAX_AVERAGE_SENTENCE_WORDS,
    MEASURABLE,
    MIN_CRITERIA_CHARS,
    MIN_DEADLINE_DAYS,
    MIN_PROBLEM_CHARS,
    SENTENCE_END,
    SEVERITY_LABELS,
    SEVERITY_ORDER,
    SOLUTION_PATTERNS,
    WARNING,
    WORD,
    Finding,
    average_sentence_words,
    check_challenge,
    prescribed_solution,
)
from proeftuin.services.guidance.recommender import (
    MARKET_CHOICES,
    MAX_ROUTES,
    RND_CHOICES,
    RND_MONTHS,
    RULES,
    Advice,
    Answers,
    Recommendation,
    recommend,
)
from proeftuin.services.guidance.route_choice import EDITABLE_STATUSES, get_for_guidance, set_route

__all__ = [
    # catalogue
    "Catalogue", "LANGUAGES", "PLACEHOLDER", "ROUTES_FILE", "ROUTE_FIELDS", "RouteFileError", "RouteGuide",
    "Source", "THRESHOLD_KEYS", "Threshold", "euro", "load_routes", "read_catalogue", "routes_path",
    "validate_catalogue",
    # route_choice
    "EDITABLE_STATUSES", "get_for_guidance", "set_route",
    # recommender
    "Advice", "Answers", "MARKET_CHOICES", "MAX_ROUTES", "RND_CHOICES", "RND_MONTHS", "RULES", "Recommendation",
    "recommend",
    # publication_check
    "ADVICE", "ERROR", "Finding", "MAX_AVERAGE_SENTENCE_WORDS", "MEASURABLE", "MIN_CRITERIA_CHARS",
    "MIN_DEADLINE_DAYS", "MIN_PROBLEM_CHARS", "SENTENCE_END", "SEVERITY_LABELS", "SEVERITY_ORDER",
    "SOLUTION_PATTERNS", "WARNING", "WORD", "average_sentence_words", "check_challenge", "prescribed_solution",
    # read here by tests (`guidance.InvalidInput`, `guidance.NotFound`), as before the split
    "InvalidInput", "NotFound",
]
