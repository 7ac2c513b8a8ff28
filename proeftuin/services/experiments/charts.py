"""The KPI chart and progress: scaling a KPI's measurements, baseline and target to the coordinates
of a small line chart (drawn by a Jinja macro), and how far the latest value went from the
baseline to the target. It reads only the KPI it is given: no query of its own, no locale.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from proeftuin.models import Kpi


@dataclass
class ChartPoint:
    x: float
    y: float
    on: date
    value: float


@dataclass
class Chart:
    """Coordinates of a small line chart in a `width` x `height` viewBox (drawn by a Jinja macro)."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    points: list[ChartPoint]
    baseline_y: float | None
    target_y: float | None
    y_min: float
    y_max: float
    x_start: date | None
    x_end: date | None

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


def kpi_chart(kpi: Kpi, start: date | None = None, end: date | None = None,
              width: int = 480, height: int = 180) -> Chart:
    """Scale a KPI's measurements, baseline and target to chart coordinates.

    Args:
        kpi: the KPI with its measurements (ordered by date).
        start, end: the experiment's period, widened to the measurements' dates.
    """
    left, right, top, bottom = 56, width - 16, 12, height - 28
    measurements = list(kpi.measurements)
    values = [m.value for m in measurements] + [kpi.target] + ([kpi.baseline] if kpi.baseline is not None else [])
    low, high = min(values), max(values)
    span = high - low
    pad = span * 0.1 if span else (abs(high) * 0.1 or 1.0)
    low, high = low - pad, high + pad
    if min(values) >= 0 > low:
        low = 0.0

    def y_of(value: float) -> float:
        return bottom - (value - low) / (high - low) * (bottom - top)

    dates = [m.measured_on for m in measurements] + [d for d in (start, end) if d is not None]
    x_start, x_end = (min(dates), max(dates)) if dates else (None, None)
    days = (x_end - x_start).days if x_start and x_end else 0

    def x_of(on: date) -> float:
        if not days:
            return (left + right) / 2
        return left + (on - x_start).days / days * (right - left)

    points = [ChartPoint(x_of(m.measured_on), y_of(m.value), m.measured_on, m.value) for m in measurements]
    return Chart(width=width, height=height, left=left, right=right, top=top, bottom=bottom, points=points,
                 baseline_y=y_of(kpi.baseline) if kpi.baseline is not None else None, target_y=y_of(kpi.target),
                 y_min=low, y_max=high, x_start=x_start, x_end=x_end)


def progress(kpi: Kpi) -> int | None:
    """How far the latest value went from the baseline to the target, in percent (None without both)."""
    if kpi.baseline is None or kpi.latest is None or kpi.target == kpi.baseline:
        return None
    share = (kpi.latest - kpi.baseline) / (kpi.target - kpi.baseline) * 100
    return round(share) if math.isfinite(share) else None  # a NaN stored before the forms refused it
