"""The dashboard's view models: the small dataclasses every figure comes back as (challenges per
status, theme and municipality, the funnel's steps, the bands, the time to the first match and
the whole dashboard; the learning section is `services.learning.LearningSummary`), so the
page's tables, its charts and the CSV files read the same rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from proeftuin.enums import ChallengeStatus
from proeftuin.services.learning import LearningSummary


@dataclass
class StatusRow:
    """Challenges of one theme or municipality, counted per status."""

    key: str
    label: str
    counts: dict[ChallengeStatus, int] = field(default_factory=dict)
    province: str | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class ChallengeCounts:
    by_status: list[tuple[ChallengeStatus, int]]
    by_theme: list[StatusRow]
    by_municipality: list[StatusRow]

    @property
    def total(self) -> int:
        return sum(n for _, n in self.by_status)


@dataclass
class FunnelStep:
    key: str
    label: str
    pairs: int
    of_first: float | None  # share of the suggested pairs (0..1)
    of_previous: float | None  # share of the step before (0..1)


@dataclass
class BandRow:
    band: str
    label: str
    low: float | None
    high: float | None
    accepted: int = 0
    rejected: int = 0
    needs_info: int = 0
    proposed: int = 0

    @property
    def total(self) -> int:
        return self.accepted + self.rejected + self.needs_info + self.proposed

    @property
    def decided(self) -> int:
        return self.accepted + self.rejected

    @property
    def rate(self) -> float | None:
        """Accepted / (accepted + rejected); None while nothing was decided."""
        return self.accepted / self.decided if self.decided else None


@dataclass
class ChallengeWait:
    challenge_id: int
    title: str
    organisation: str
    status: ChallengeStatus
    published_at: datetime
    first_accepted_at: datetime | None
    days: float | None  # publication -> first accepted match
    waiting_days: int | None  # publication -> now, while there is no accepted match


@dataclass
class TimeToMatch:
    rows: list[ChallengeWait]
    median_days: float | None
    buckets: list[tuple[str, str, int]]  # key, label, challenges
    curve: list[tuple[float, float]]  # (whole days, % of the published challenges matched by then)

    @property
    def matched(self) -> list[ChallengeWait]:
        return [r for r in self.rows if r.days is not None]

    @property
    def waiting(self) -> list[ChallengeWait]:
        return sorted((r for r in self.rows if r.days is None), key=lambda r: (r.published_at, r.challenge_id))


@dataclass
class Dashboard:
    period: str
    challenges: ChallengeCounts
    funnel: list[FunnelStep]
    bands: list[BandRow]
    time_to_match: TimeToMatch
    learning: LearningSummary | None = None  # not per period: the ranking in use and the last runs

    @property
    def suggestions(self) -> int:
        return self.funnel[0].pairs

    @property
    def acceptance_rate(self) -> float | None:
        accepted = sum(b.accepted for b in self.bands)
        decided = sum(b.decided for b in self.bands)
        return accepted / decided if decided else None
