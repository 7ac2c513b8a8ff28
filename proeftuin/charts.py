"""Small server-side SVG charts: vertical bars, horizontal bars, a funnel and lines. No JavaScript.

Every chart is an inline `<svg role="img">` whose `<title>` and `<desc>` are named by
`aria-labelledby`, so a screen reader announces the chart's title and the numbers it shows. Text is
drawn in colours with at least 4.5:1 contrast on white, and every series carries a pattern (or a
dash and marker shape for lines) as well as a colour, so nothing depends on telling colours apart.
Only presentation attributes are used (no `style`), which the content security policy allows.

The module knows nothing of Flask or the locale: callers pass labels and value texts that are
already translated and formatted. Every piece of text is escaped here.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 720
FONT = 14
INK = "#1b1f24"  # text: 16:1 on white
MUTED = "#3d4852"  # axis labels and ticks: 9.6:1 on white
GRID = "#c9d1d6"  # decorative grid lines only
BACKGROUND = "#ffffff"
# Dark enough that each reaches 4.5:1 against white even when used for text (the bars meet 3:1 easily).
PALETTE = ("#0b4a75", "#145c27", "#7a4a00", "#8a1c14", "#4a3b8f", "#00574f")
PATTERNS = ("solid", "diagonal", "dots", "cross", "horizontal", "vertical")
DASHES = ("", "8 4", "2 4", "10 4 2 4")
MARKERS = ("circle", "square", "triangle", "diamond")

_ID = re.compile(r"^[a-z][a-z0-9-]*$")


@dataclass(frozen=True)
class Datum:
    """One bar or funnel step: its label, its value and the value as the reader should see it."""

    label: str
    value: float
    text: str


@dataclass(frozen=True)
class Series:
    """One line of a line chart: (x, y) points in ascending x."""

    label: str
    points: Sequence[tuple[float, float]]


# ---- helpers -----------------------------------------------------------------------------------


def _n(value: float) -> str:
    """A coordinate, short."""
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def _text(x: float, y: float, content: str, *, anchor: str = "start", fill: str = INK, size: int = FONT,
          weight: str | None = None, baseline: str = "middle") -> str:
    bold = f' font-weight="{weight}"' if weight else ""
    return (f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" dominant-baseline="{baseline}" '
            f'font-size="{size}" fill="{fill}"{bold}>{escape(content)}</text>')


def _truncate(label: str, max_chars: int) -> str:
    return label if len(label) <= max_chars else label[: max(1, max_chars - 1)].rstrip() + "\u2026"


def _wrap(label: str, max_chars: int, max_lines: int = 2) -> list[str]:
    """Split a label on spaces into at most `max_lines` lines of about `max_chars`."""
    lines: list[str] = []
    current = ""
    for word in label.split():
        candidate = f"{current} {word}".strip()
        if len(candidate) <= max_chars or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[: max_lines - 1] + [" ".join(lines[max_lines - 1:])]
    return [_truncate(line, max_chars) for line in lines] or [""]


def _text_width(label: str, size: int = FONT) -> float:
    """A generous estimate of the rendered width of a label."""
    return len(label) * size * 0.58


def nice_ticks(maximum: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least `maximum` (whole numbers only: counts, percents, days)."""
    if maximum <= 0:
        return [0, 1]
    raw = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    multiples = (1, 2, 5, 10) if magnitude == 1 else (1, 2, 2.5, 5, 10)
    step = next(m * magnitude for m in multiples if m * magnitude >= raw)
    top = math.ceil(maximum / step) * step
    ticks, value = [], 0.0
    while value <= top + 1e-9:
        ticks.append(value)
        value += step
    return ticks


def _pattern(chart_id: str, index: int) -> str:
    """A <pattern> of palette colour `index` with white marks of its own shape."""
    colour = PALETTE[index % len(PALETTE)]
    kind = PATTERNS[index % len(PATTERNS)]
    marks = {
        "solid": "",
        "diagonal": '<path d="M-2,2 l4,-4 M0,10 l10,-10 M8,12 l4,-4" stroke="#ffffff" stroke-width="2"/>',
        "dots": '<circle cx="5" cy="5" r="1.8" fill="#ffffff"/>',
        "cross": '<path d="M0,5 h10 M5,0 v10" stroke="#ffffff" stroke-width="1.5"/>',
        "horizontal": '<path d="M0,3 h10 M0,8 h10" stroke="#ffffff" stroke-width="1.5"/>',
        "vertical": '<path d="M3,0 v10 M8,0 v10" stroke="#ffffff" stroke-width="1.5"/>',
    }[kind]
    return (f'<pattern id="{chart_id}-p{index}" width="10" height="10" patternUnits="userSpaceOnUse">'
            f'<rect width="10" height="10" fill="{colour}"/>{marks}</pattern>')


def _fill(chart_id: str, index: int) -> tuple[str, str]:
    """The fill (a pattern reference) and the outline colour of series `index`."""
    return f"url(#{chart_id}-p{index})", PALETTE[index % len(PALETTE)]


def _svg(chart_id: str, title: str, desc: str, height: float, body: list[str], defs: list[str]) -> Markup:
    if not _ID.match(chart_id):
        raise ValueError(f"not a usable chart id: {chart_id!r}")
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{chart_id}" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {_n(height)}" width="{WIDTH}" height="{_n(height)}" '
        f'preserveAspectRatio="xMinYMin meet" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'font-family="inherit">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>'
    )
    defs_part = f"<defs>{''.join(defs)}</defs>" if defs else ""
    background = f'<rect width="{WIDTH}" height="{_n(height)}" fill="{BACKGROUND}"/>'
    return Markup(head + defs_part + background + "".join(body) + "</svg>")


def _empty(chart_id: str, title: str, desc: str, empty_text: str) -> Markup:
    height = 80
    return _svg(chart_id, title, desc, height, [_text(WIDTH / 2, height / 2, empty_text, anchor="middle",
                                                      fill=MUTED)], [])


# ---- charts ------------------------------------------------------------------------------------


def bar_chart(chart_id: str, title: str, desc: str, data: Sequence[Datum], *, empty_text: str,
              y_max: float | None = None, tick_format: Callable[[float], str] = lambda v: _n(v),
              patterned: bool = True) -> Markup:
    """Vertical bars with a value axis; each bar's value text sits above it.

    Args:
        chart_id: a unique id on the page (lower-case letters, digits and hyphens).
        title: the chart's accessible name.
        desc: the numbers in words, for people who cannot see the chart.
        data: the bars, in the order to draw them.
        empty_text: shown instead of bars when there is nothing to draw.
        y_max: the top of the value axis (e.g. 100 for percentages); the largest value by default.
        tick_format: formats the value axis ticks.
        patterned: give each bar its own pattern (categories) rather than one fill for all.
    """
    if not data or (y_max is None and all(d.value <= 0 for d in data)):
        return _empty(chart_id, title, desc, empty_text)
    height, top, bottom, left, right = 320, 28, 52, 56, 12
    ticks = nice_ticks(y_max if y_max is not None else max(d.value for d in data))
    scale_top = ticks[-1]
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    body, defs = [], []
    for tick in ticks:
        y = top + plot_h - plot_h * tick / scale_top
        body.append(f'<line x1="{left}" y1="{_n(y)}" x2="{WIDTH - right}" y2="{_n(y)}" stroke="{GRID}" '
                    f'stroke-width="1"/>')
        body.append(_text(left - 8, y, tick_format(tick), anchor="end", fill=MUTED, size=12))
    slot = plot_w / len(data)
    bar_w = min(80.0, slot * 0.6)
    max_chars = max(6, int(slot / (FONT * 0.58)))
    for i, datum in enumerate(data):
        index = i if patterned else 0
        if patterned or i == 0:
            defs.append(_pattern(chart_id, index))
        fill, outline = _fill(chart_id, index)
        x = left + slot * i + (slot - bar_w) / 2
        h = plot_h * max(0.0, datum.value) / scale_top
        y = top + plot_h - h
        body.append(f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(bar_w)}" height="{_n(h)}" fill="{fill}" '
                    f'stroke="{outline}" stroke-width="1"/>')
        body.append(_text(x + bar_w / 2, y - 10, datum.text, anchor="middle", weight="600"))
        for line_no, line in enumerate(_wrap(datum.label, max_chars)):
            body.append(_text(left + slot * i + slot / 2, top + plot_h + 16 + line_no * 17, line, anchor="middle"))
    body.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{WIDTH - right}" y2="{top + plot_h}" '
                f'stroke="{MUTED}" stroke-width="1.5"/>')
    return _svg(chart_id, title, desc, height, body, defs)


def hbar_chart(chart_id: str, title: str, desc: str, data: Sequence[Datum], *, empty_text: str,
               patterned: bool = False) -> Markup:
    """Horizontal bars, one row per datum: the label on the left, the value text after the bar.

    Args: as `bar_chart`; by default every bar shares one fill (the rows are one series).
    """
    if not data or all(d.value <= 0 for d in data):
        return _empty(chart_id, title, desc, empty_text)
    row, top, bottom = 30, 8, 8
    label_w = min(260.0, max(_text_width(d.label) for d in data) + 12)
    max_chars = int((label_w - 12) / (FONT * 0.58))
    value_w = max(_text_width(d.text) for d in data) + 16
    bar_area = WIDTH - label_w - value_w
    maximum = max(d.value for d in data)
    height = top + row * len(data) + bottom
    body, defs = [], []
    for i, datum in enumerate(data):
        index = i if patterned else 0
        if patterned or i == 0:
            defs.append(_pattern(chart_id, index))
        fill, outline = _fill(chart_id, index)
        y = top + row * i
        w = bar_area * max(0.0, datum.value) / maximum if maximum else 0
        body.append(_text(label_w - 10, y + row / 2, _truncate(datum.label, max_chars), anchor="end"))
        if w > 0:
            body.append(f'<rect x="{_n(label_w)}" y="{_n(y + 5)}" width="{_n(max(w, 2))}" height="{row - 10}" '
                        f'fill="{fill}" stroke="{outline}" stroke-width="1"/>')
        body.append(_text(label_w + max(w, 0) + 8, y + row / 2, datum.text, weight="600"))
    body.append(f'<line x1="{_n(label_w)}" y1="{top}" x2="{_n(label_w)}" y2="{height - bottom}" '
                f'stroke="{MUTED}" stroke-width="1.5"/>')
    return _svg(chart_id, title, desc, height, body, defs)


def funnel_chart(chart_id: str, title: str, desc: str, steps: Sequence[Datum], *, empty_text: str) -> Markup:
    """A funnel: one centred bar per step, as wide as its share of the first step.

    Args: as `bar_chart`; `steps[0]` is the widest (100 %) step.
    """
    if not steps or steps[0].value <= 0:
        return _empty(chart_id, title, desc, empty_text)
    row, gap, top = 40, 8, 8
    label_w = min(220.0, max(_text_width(s.label) for s in steps) + 12)
    max_chars = int((label_w - 12) / (FONT * 0.58))
    value_w = max(_text_width(s.text) for s in steps) + 16
    area = WIDTH - label_w - value_w
    centre = label_w + area / 2
    first = steps[0].value
    height = top * 2 + len(steps) * (row + gap) - gap
    body, defs = [], []
    for i, step in enumerate(steps):
        defs.append(_pattern(chart_id, i))
        fill, outline = _fill(chart_id, i)
        y = top + i * (row + gap)
        w = area * max(0.0, step.value) / first
        body.append(_text(label_w - 10, y + row / 2, _truncate(step.label, max_chars), anchor="end"))
        if w > 0:
            body.append(f'<rect x="{_n(centre - max(w, 2) / 2)}" y="{y}" width="{_n(max(w, 2))}" height="{row}" '
                        f'fill="{fill}" stroke="{outline}" stroke-width="1"/>')
        body.append(_text(label_w + area + 8, y + row / 2, step.text, weight="600"))
    return _svg(chart_id, title, desc, height, body, defs)


def _marker(kind: str, x: float, y: float, colour: str) -> str:
    if kind == "square":
        return f'<rect x="{_n(x - 4)}" y="{_n(y - 4)}" width="8" height="8" fill="{colour}"/>'
    if kind == "triangle":
        return f'<path d="M{_n(x)},{_n(y - 5)} l5,9 h-10 z" fill="{colour}"/>'
    if kind == "diamond":
        return f'<path d="M{_n(x)},{_n(y - 5)} l5,5 l-5,5 l-5,-5 z" fill="{colour}"/>'
    return f'<circle cx="{_n(x)}" cy="{_n(y)}" r="4" fill="{colour}"/>'


def line_chart(chart_id: str, title: str, desc: str, series: Sequence[Series], *, empty_text: str,
               x_label: str, y_label: str, y_max: float | None = None, step: bool = False,
               x_format: Callable[[float], str] = lambda v: _n(v),
               y_format: Callable[[float], str] = lambda v: _n(v)) -> Markup:
    """Lines over a numeric x axis; each series has its own colour, dash pattern and marker shape.

    Args:
        series: the lines; a legend is drawn when there is more than one.
        x_label, y_label: the axis titles.
        y_max: the top of the value axis (e.g. 100 for percentages).
        step: draw each line as a step function (a cumulative count), not straight segments.
        x_format, y_format: format the tick labels.
        Others as `bar_chart`.
    """
    points = [p for s in series for p in s.points]
    if not points:
        return _empty(chart_id, title, desc, empty_text)
    legend_h = 24 if len(series) > 1 else 0
    height, top, bottom, left, right = 320 + legend_h, 16 + legend_h, 56, 60, 20
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    x_ticks = nice_ticks(max(p[0] for p in points), 6)
    y_ticks = nice_ticks(y_max if y_max is not None else max(p[1] for p in points))
    x_top, y_top = x_ticks[-1], y_ticks[-1]

    def sx(x: float) -> float:
        return left + plot_w * x / x_top

    def sy(y: float) -> float:
        return top + plot_h - plot_h * y / y_top

    body: list[str] = []
    for tick in y_ticks:
        body.append(f'<line x1="{left}" y1="{_n(sy(tick))}" x2="{WIDTH - right}" y2="{_n(sy(tick))}" '
                    f'stroke="{GRID}" stroke-width="1"/>')
        body.append(_text(left - 8, sy(tick), y_format(tick), anchor="end", fill=MUTED, size=12))
    for tick in x_ticks:
        body.append(f'<line x1="{_n(sx(tick))}" y1="{top + plot_h}" x2="{_n(sx(tick))}" y2="{top + plot_h + 5}" '
                    f'stroke="{MUTED}" stroke-width="1"/>')
        body.append(_text(sx(tick), top + plot_h + 16, x_format(tick), anchor="middle", fill=MUTED, size=12))
    body.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{WIDTH - right}" y2="{top + plot_h}" '
                f'stroke="{MUTED}" stroke-width="1.5"/>')
    body.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="{MUTED}" stroke-width="1.5"/>')
    body.append(_text(left + plot_w / 2, height - 12, x_label, anchor="middle", fill=MUTED, size=13))
    body.append(f'<text x="14" y="{_n(top + plot_h / 2)}" text-anchor="middle" dominant-baseline="middle" '
                f'font-size="13" fill="{MUTED}" transform="rotate(-90 14 {_n(top + plot_h / 2)})">'
                f'{escape(y_label)}</text>')
    for i, line in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        dash = DASHES[i % len(DASHES)]
        marker = MARKERS[i % len(MARKERS)]
        coords: list[tuple[float, float]] = []
        for j, (x, y) in enumerate(line.points):
            if step and j:
                coords.append((sx(x), sy(line.points[j - 1][1])))
            coords.append((sx(x), sy(y)))
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        body.append(f'<polyline points="{" ".join(f"{_n(x)},{_n(y)}" for x, y in coords)}" fill="none" '
                    f'stroke="{colour}" stroke-width="2.5"{dash_attr}/>')
        body.extend(_marker(marker, sx(x), sy(y), colour) for x, y in line.points)
        if legend_h:
            lx = left + i * 200
            body.append(f'<line x1="{lx}" y1="12" x2="{lx + 28}" y2="12" stroke="{colour}" stroke-width="2.5"'
                        f'{dash_attr}/>')
            body.append(_marker(marker, lx + 14, 12, colour))
            body.append(_text(lx + 36, 12, _truncate(line.label, 20)))
    return _svg(chart_id, title, desc, height, body, [])
