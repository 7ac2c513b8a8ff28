"""The CSV downloads: one table per dataset built from the same figures, written as RFC 4180 text
with a byte-order mark and with cells a spreadsheet will not run as formulas; every export is
recorded in the audit trail.
"""
from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l

from proeftuin.enums import ChallengeStatus
from proeftuin.extensions import db
from proeftuin.models import User
from proeftuin.services import NotFound, audit
from proeftuin.services.dashboard.figures import (
    _require_staff,
    acceptance_by_band,
    challenge_counts,
    match_funnel,
    time_to_first_match,
)

logger = logging.getLogger(__name__)

CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str | int | float:
    """A cell a spreadsheet will not run: text starting with = + - @ (or a tab or CR) gets a leading '."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(CSV_FORMULA_PREFIXES) else text


def to_csv(header: Sequence[object], rows: Sequence[Sequence[object]]) -> str:
    """RFC 4180 text (CRLF line ends) with a UTF-8 byte-order mark, so spreadsheets read accents right."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_cell(h) for h in header])
    writer.writerows([csv_cell(v) for v in row] for row in rows)
    return buffer.getvalue()


def _percent(share: float | None) -> float | None:
    return None if share is None else round(100 * share, 1)


def _status_header() -> list[str]:
    return [status.label for status in ChallengeStatus]


def _statuses_table(period: str, locale: str, now: datetime) -> tuple[list, list]:
    counts = challenge_counts(period, locale, now)
    return ([_l("Code"), _l("Status"), _l("Challenges")],
            [[status.value, status.label, n] for status, n in counts.by_status])


def _themes_table(period: str, locale: str, now: datetime) -> tuple[list, list]:
    counts = challenge_counts(period, locale, now)
    header = [_l("Code"), _l("Theme"), _l("Total"), *_status_header()]
    return header, [[r.key, r.label, r.total, *(r.counts.get(s, 0) for s in ChallengeStatus)]
                    for r in counts.by_theme]


def _municipalities_table(period: str, locale: str, now: datetime) -> tuple[list, list]:
    counts = challenge_counts(period, locale, now)
    header = [_l("NIS code"), _l("Municipality"), _l("Province"), _l("Total"), *_status_header()]
    return header, [[r.key, r.label, r.province, r.total, *(r.counts.get(s, 0) for s in ChallengeStatus)]
                    for r in counts.by_municipality]


def _funnel_table(period: str, locale: str, now: datetime) -> tuple[list, list]:
    header = [_l("Code"), _l("Step"), _l("Pairs"), _l("Share of suggested (%)"), _l("Share of the step before (%)")]
    return header, [[s.key, s.label, s.pairs, _percent(s.of_first), _percent(s.of_previous)]
                    for s in match_funnel(period, now)]


def _acceptance_table(period: str, locale: str, now: datetime) -> tuple[list, list]:
    header = [_l("Code"), _l("Score band"), _l("Score from"), _l("Score below"), _l("Suggestions"),
              _l("Accepted"), _l("Rejected"), _l("Needs information"), _l("Not yet decided"),
              _l("Decided"), _l("Acceptance rate (%)")]
    return header, [[b.band, b.label, b.low, b.high, b.total, b.accepted, b.rejected, b.needs_info, b.proposed,
                     b.decided, _percent(b.rate)] for b in acceptance_by_band(period, now)]


def _time_to_match_table(period: str, locale: str, now: datetime) -> tuple[list, list]:
    header = [_l("Challenge id"), _l("Challenge"), _l("Municipality"), _l("Status"), _l("Published at"),
              _l("First accepted match at"), _l("Days to first accepted match"), _l("Days waiting")]
    result = time_to_first_match(period, locale, now)
    return header, [[r.challenge_id, r.title, r.organisation, r.status.label, r.published_at, r.first_accepted_at,
                     None if r.days is None else round(r.days, 1), r.waiting_days] for r in result.rows]


TABLES: dict[str, Callable[[str, str, datetime], tuple[list, list]]] = {
    "statuses": _statuses_table,
    "themes": _themes_table,
    "municipalities": _municipalities_table,
    "funnel": _funnel_table,
    "acceptance": _acceptance_table,
    "time-to-match": _time_to_match_table,
}
DATASETS = tuple(TABLES)


def export_csv(actor: User, dataset: str, period: str, locale: str = "nl",
               now: datetime | None = None) -> tuple[str, str]:
    """One dataset of the dashboard as CSV, recorded in the audit trail.

    Returns:
        The file name and the CSV text.

    Raises:
        Forbidden: the actor is not a facilitator or admin.
        NotFound: no such dataset.
    """
    _require_staff(actor)
    if dataset not in TABLES:
        raise NotFound()
    now = now or datetime.now(UTC)
    header, rows = TABLES[dataset](period, locale, now)
    text = to_csv(header, rows)
    audit.record(actor, "export", None, dataset=dataset, period=period, rows=len(rows))
    db.session.commit()
    logger.info("export dataset=%s period=%s rows=%d user=%s", dataset, period, len(rows), actor.id)
    return f"proeftuin-{dataset}-{period}-{now.date().isoformat()}.csv", text
