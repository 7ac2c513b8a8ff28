"""Computing the figures for one period: challenges by status, theme and municipality, the match
funnel (a cohort of suggestions followed to wherever they got), acceptance per score band, and
the time from publication to the first accepted match; `overview` gathers them for staff.
"""
from __future__ import annotations

import math
import statistics
from collections import defaultdict
from datetime import UTC, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from proeftuin.enums import (
    PROVINCE_TO_REGION,
    ChallengeStatus,
    ExperimentStatus,
    ParticipationState,
    SuggestionStatus,
    Theme,
)
from proeftuin.extensions import db
from proeftuin.models import (
    Challenge,
    ChallengeTheme,
    Experiment,
    MatchSuggestion,
    Municipality,
    Organisation,
    StartupProfile,
    User,
)
from proeftuin.models.experiment import experiment_startup
from proeftuin.policy import is_staff
from proeftuin.services import Forbidden, learning
from proeftuin.services.dashboard.periods import period_start
from proeftuin.services.dashboard.results import (
    BandRow,
    ChallengeCounts,
    ChallengeWait,
    Dashboard,
    FunnelStep,
    StatusRow,
    TimeToMatch,
)
from proeftuin.services.review import BANDS, band_of

BAND_LABELS = {"low": _l("Weak fit"), "medium": _l("Possible fit"), "high": _l("Good fit"), "top": _l("Strong fit")}
FUNNEL_STEPS = {
    "suggested": _l("Suggested"),
    "accepted": _l("Accepted by a facilitator"),
    "experiment": _l("In an experiment"),
    "procurement": _l("Follow-up procurement"),
    "awarded": _l("Contract awarded"),
}
# Whole days from publication to the first accepted match: (key, label, lowest day, highest day).
WAIT_BUCKETS = (
    ("day", _l("Within a day"), 0, 0),
    ("week", _l("1 to 7 days"), 1, 7),
    ("month", _l("8 to 30 days"), 8, 30),
    ("quarter", _l("31 to 90 days"), 31, 90),
    ("longer", _l("More than 90 days"), 91, None),
)
NO_MATCH = ("none", _l("No accepted match yet"))


def _require_staff(actor: User) -> None:
    if not is_staff(actor):
        raise Forbidden()


def challenge_counts(period: str, locale: str = "nl", now: datetime | None = None) -> ChallengeCounts:
    """Challenges created in the period, by status, by theme (every theme, also those with none) and
    by municipality (only those with challenges). A challenge with several themes counts once per theme."""
    since = period_start(period, now or datetime.now(UTC))
    in_period = [Challenge.created_at >= since] if since else []

    status_rows = db.session.execute(
        sa.select(Challenge.status, sa.func.count()).where(*in_period).group_by(Challenge.status)
    ).all()
    per_status = {status: n for status, n in status_rows}
    by_status = [(status, per_status.get(status, 0)) for status in ChallengeStatus]

    themes = {theme: StatusRow(theme.value, theme.label) for theme in Theme}
    theme_rows = db.session.execute(
        sa.select(ChallengeTheme.theme, Challenge.status, sa.func.count())
        .join(Challenge, Challenge.id == ChallengeTheme.challenge_id)
        .where(*in_period)
        .group_by(ChallengeTheme.theme, Challenge.status)
    ).all()
    for theme, status, n in theme_rows:
        themes[theme].counts[status] = n
    by_theme = sorted(themes.values(), key=lambda r: (-r.total, r.label.lower()))

    municipality_rows = db.session.execute(
        sa.select(Organisation.id, Organisation.name, Municipality.nis_code, Municipality.name_nl,
                  Municipality.name_fr, Municipality.province, Challenge.status, sa.func.count())
        .select_from(Challenge)
        .join(Organisation, Organisation.id == Challenge.organisation_id)
        .outerjoin(Municipality, Municipality.nis_code == Organisation.municipality_nis)
        .where(*in_period)
        .group_by(Organisation.id, Organisation.name, Municipality.nis_code, Municipality.name_nl,
                  Municipality.name_fr, Municipality.province, Challenge.status)
    ).all()
    municipalities: dict[int, StatusRow] = {}
    for org_id, org_name, nis, name_nl, name_fr, province, status, n in municipality_rows:
        if org_id not in municipalities:
            name = (name_fr if locale == "fr" and name_fr else name_nl) if nis else org_name
            municipalities[org_id] = StatusRow(nis or "", name, province=_province_label(province))
        municipalities[org_id].counts[status] = n
    by_municipality = sorted(municipalities.values(), key=lambda r: (-r.total, r.label.lower()))
    return ChallengeCounts(by_status, by_theme, by_municipality)


def _province_label(province: str | None) -> str | None:
    if province is None:
        return None
    region = PROVINCE_TO_REGION.get(province)
    return region.label if region is not None else province


def match_funnel(period: str, now: datetime | None = None) -> list[FunnelStep]:
    """Challenge / start-up pairs suggested in the period and how far they got.

    Each step counts pairs of the step before it: suggested -> accepted by a facilitator -> in an
    experiment (one made from the suggestion, or one for the same challenge that includes the
    start-up) -> that experiment is in follow-up procurement -> with the contract awarded.
    """
    since = period_start(period, now or datetime.now(UTC))
    stmt = (
        sa.select(MatchSuggestion.id, MatchSuggestion.challenge_id, StartupProfile.organisation_id,
                  MatchSuggestion.status)
        .join(StartupProfile, StartupProfile.id == MatchSuggestion.profile_id)
    )
    if since:
        stmt = stmt.where(MatchSuggestion.created_at >= since)
    suggestions = db.session.execute(stmt).all()

    experiments = {
        row.id: row
        for row in db.session.execute(
            sa.select(Experiment.id, Experiment.challenge_id, Experiment.suggestion_id, Experiment.status,
                      Experiment.procurement_awarded)
        ).all()
    }
    by_suggestion: dict[int, list[int]] = defaultdict(list)
    by_pair: dict[tuple[int, int], list[int]] = defaultdict(list)
    for row in experiments.values():
        if row.suggestion_id is not None:
            by_suggestion[row.suggestion_id].append(row.id)
    for experiment_id, organisation_id in db.session.execute(
        sa.select(experiment_startup.c.experiment_id, experiment_startup.c.organisation_id)
        .where(experiment_startup.c.state == ParticipationState.ACCEPTED)  # an invitation is no experiment yet
    ).all():
        by_pair[(experiments[experiment_id].challenge_id, organisation_id)].append(experiment_id)

    counts = dict.fromkeys(FUNNEL_STEPS, 0)
    for suggestion_id, challenge_id, organisation_id, status in suggestions:
        counts["suggested"] += 1
        if status != SuggestionStatus.ACCEPTED:
            continue
        counts["accepted"] += 1
        found = [experiments[i] for i in {*by_suggestion[suggestion_id], *by_pair[(challenge_id, organisation_id)]}]
        if not found:
            continue
        counts["experiment"] += 1
        procuring = [e for e in found if e.status == ExperimentStatus.PROCUREMENT]
        if not procuring:
            continue
        counts["procurement"] += 1
        if any(e.procurement_awarded for e in procuring):
            counts["awarded"] += 1

    steps: list[FunnelStep] = []
    first = counts["suggested"]
    previous: int | None = None
    for key, label in FUNNEL_STEPS.items():
        n = counts[key]
        steps.append(FunnelStep(key, str(label), n, n / first if first else None,
                                None if previous is None else (n / previous if previous else None)))
        previous = n
    return steps


def acceptance_by_band(period: str, now: datetime | None = None) -> list[BandRow]:
    """Suggestions made in the period per score band (the ranker's unit), with their decisions.

    The acceptance rate is accepted / (accepted + rejected); "needs information" and undecided
    suggestions are counted apart, so the rate only reflects final decisions.
    """
    since = period_start(period, now or datetime.now(UTC))
    stmt = sa.select(MatchSuggestion.score, MatchSuggestion.status)
    if since:
        stmt = stmt.where(MatchSuggestion.created_at >= since)
    rows = {name: BandRow(name, str(BAND_LABELS[name]), low, high) for name, (low, high) in BANDS.items()}
    attribute = {
        SuggestionStatus.ACCEPTED: "accepted",
        SuggestionStatus.REJECTED: "rejected",
        SuggestionStatus.NEEDS_INFO: "needs_info",
        SuggestionStatus.PROPOSED: "proposed",
    }
    for score, status in db.session.execute(stmt).all():
        row = rows[band_of(score)]
        setattr(row, attribute[status], getattr(row, attribute[status]) + 1)
    return list(rows.values())


def time_to_first_match(period: str, locale: str = "nl", now: datetime | None = None) -> TimeToMatch:
    """Per challenge first published in the period: days from publication to its first accepted match.

    A suggestion accepted without a recorded decision time (older data) counts from its last update.
    """
    now = now or datetime.now(UTC)
    since = period_start(period, now)
    stmt = (
        sa.select(Challenge.id, Challenge.title, Challenge.status, Challenge.published_at, Organisation.name,
                  Municipality.name_nl, Municipality.name_fr)
        .join(Organisation, Organisation.id == Challenge.organisation_id)
        .outerjoin(Municipality, Municipality.nis_code == Organisation.municipality_nis)
        .where(Challenge.published_at.is_not(None))
        .order_by(Challenge.published_at, Challenge.id)
    )
    if since:
        stmt = stmt.where(Challenge.published_at >= since)
    challenges = db.session.execute(stmt).all()

    first_accepted: dict[int, datetime] = {}
    ids = [c.id for c in challenges]
    if ids:
        accepted = db.session.execute(
            sa.select(MatchSuggestion.challenge_id, MatchSuggestion.decided_at, MatchSuggestion.updated_at)
            .where(MatchSuggestion.status == SuggestionStatus.ACCEPTED, MatchSuggestion.challenge_id.in_(ids))
        ).all()
        for challenge_id, decided_at, updated_at in accepted:
            at = decided_at or updated_at
            if challenge_id not in first_accepted or at < first_accepted[challenge_id]:
                first_accepted[challenge_id] = at

    rows: list[ChallengeWait] = []
    for c in challenges:
        organisation = (c.name_fr if locale == "fr" and c.name_fr else c.name_nl) or c.name
        at = first_accepted.get(c.id)
        days = None if at is None else max(0.0, (at - c.published_at).total_seconds() / 86400)
        waiting = None if at is not None else max(0, (now - c.published_at).days)
        rows.append(ChallengeWait(c.id, c.title, organisation, c.status, c.published_at, at, days, waiting))

    matched_days = [r.days for r in rows if r.days is not None]
    buckets = []
    for key, label, low, high in WAIT_BUCKETS:
        n = sum(1 for d in matched_days if math.floor(d) >= low and (high is None or math.floor(d) <= high))
        buckets.append((key, str(label), n))
    buckets.append((NO_MATCH[0], str(NO_MATCH[1]), len(rows) - len(matched_days)))

    curve: list[tuple[float, float]] = []
    if matched_days:
        whole = [math.floor(d) for d in matched_days]
        for day in sorted({0, *whole}):
            curve.append((day, 100 * sum(1 for d in whole if d <= day) / len(rows)))
    median = statistics.median(matched_days) if matched_days else None
    return TimeToMatch(rows, median, buckets, curve)


def overview(actor: User, period: str, locale: str = "nl", now: datetime | None = None) -> Dashboard:
    """Every figure of the dashboard for one period.

    Raises:
        Forbidden: the actor is not a facilitator or admin.
    """
    _require_staff(actor)
    now = now or datetime.now(UTC)
    return Dashboard(
        period=period,
        challenges=challenge_counts(period, locale, now),
        funnel=match_funnel(period, now),
        bands=acceptance_by_band(period, now),
        time_to_match=time_to_first_match(period, locale, now),
        learning=learning.summary(),
    )
