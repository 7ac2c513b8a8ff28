"""The facilitators' dashboard: challenges by theme, municipality and status, the match funnel,
acceptance per score band and the time from publication to the first accepted match.

Every figure is computed here for one period (the last 30, 90 or 365 days, or all time) and comes
back as small dataclasses; the same rows feed the page's tables, its charts and the CSV downloads.
What a period selects:

- challenges (by status, theme, municipality): those created in the period;
- the funnel and the acceptance per band: the suggestions made in the period, followed to wherever
  they got since (a cohort);
- the time to the first accepted match: the challenges first published in the period;
- learning from decisions (not per period): the learned re-ranking in use, with nDCG@10 before and
  after on the held-back decisions, and the last runs (`services.learning.summary`).

Where things live: `periods` (the periods and their argument), `results` (the dataclasses),
`figures` (the queries behind every figure) and `export` (the CSV downloads). Callers import from
this package, which re-exports the public names of every module.
"""
from __future__ import annotations

from proeftuin.services.dashboard.export import CSV_FORMULA_PREFIXES, DATASETS, TABLES, csv_cell, export_csv, to_csv
from proeftuin.services.dashboard.figures import (
    BAND_LABELS,
    FUNNEL_STEPS,
    NO_MATCH,
    WAIT_BUCKETS,
    acceptance_by_band,
    challenge_counts,
    match_funnel,
    overview,
    time_to_first_match,
)
from proeftuin.services.dashboard.periods import DEFAULT_PERIOD, PERIOD_LABELS, PERIODS, parse_period, period_start
from proeftuin.services.dashboard.results import (
    BandRow,
    ChallengeCounts,
    ChallengeWait,
    Dashboard,
    FunnelStep,
    StatusRow,
    TimeToMatch,
)

__all__ = [
    # periods
    "DEFAULT_PERIOD", "PERIODS", "PERIOD_LABELS", "parse_period", "period_start",
    # results
    "BandRow", "ChallengeCounts", "ChallengeWait", "Dashboard", "FunnelStep", "StatusRow", "TimeToMatch",
    # figures
    "BAND_LABELS", "FUNNEL_STEPS", "NO_MATCH", "WAIT_BUCKETS", "acceptance_by_band", "challenge_counts",
    "match_funnel", "overview", "time_to_first_match",
    # export
    "CSV_FORMULA_PREFIXES", "DATASETS", "TABLES", "csv_cell", "export_csv", "to_csv",
]
