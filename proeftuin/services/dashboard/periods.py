"""The dashboard's periods: the last 30, 90 or 365 days or all time, their labels, reading the
`period` argument and the first moment of a period.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l

from proeftuin.services.listing import one_of

PERIODS: dict[str, int | None] = {"30": 30, "90": 90, "365": 365, "all": None}
DEFAULT_PERIOD = "all"
PERIOD_LABELS = {
    "30": _l("Last 30 days"),
    "90": _l("Last 90 days"),
    "365": _l("Last 365 days"),
    "all": _l("All time"),
}


def parse_period(args: Mapping[str, str]) -> str:
    """The `period` argument, `all` when absent.

    Raises:
        InvalidInput: an unknown value.
    """
    return one_of(args, "period", set(PERIODS)) or DEFAULT_PERIOD


def period_start(period: str, now: datetime) -> datetime | None:
    """The first moment of the period ending `now`; None for all time."""
    days = PERIODS[period]
    return None if days is None else now - timedelta(days=days)
