"""The facilitators' dashboard: charts with their numbers, and a CSV download per dataset."""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import format_decimal, format_percent, get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from proeftuin import charts
from proeftuin.access import STAFF, allow
from proeftuin.extensions import limiter
from proeftuin.services import InvalidInput
from proeftuin.services import dashboard as service

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

TOP_MUNICIPALITIES = 15


def export_rate_limit() -> str:
    return current_app.config["EXPORT_RATE_LIMIT"]


def _period() -> str:
    try:
        return service.parse_period(request.args)
    except InvalidInput:
        abort(400)


@bp.route("/")
@allow(*STAFF)
def index():
    period = _period()
    data = service.overview(current_user, period, str(get_locale()))
    return render_template(
        "dashboard/index.html", data=data, charts=build_charts(data), period=period,
        periods=[(key, str(label)) for key, label in service.PERIOD_LABELS.items()],
        percent=percent, days=days,
    )


@bp.route("/<dataset>.csv")
@allow(*STAFF)
@limiter.limit(export_rate_limit)
def export(dataset: str):
    period = _period()
    filename, text = service.export_csv(current_user, dataset, period, str(get_locale()))
    return Response(
        text,
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )


# ---- presentation ------------------------------------------------------------------------------


def percent(share: float | None) -> str:
    """A share (0..1) as a percentage in the reader's locale; a dash when there is none."""
    return "–" if share is None else format_percent(share, "#,##0.#%")


def days(value: float | None) -> str:
    """A number of days with at most one decimal; a dash when there is none."""
    return "–" if value is None else format_decimal(value, "#,##0.#")


def _listing(items: list[tuple[str, str]]) -> str:
    return "; ".join(f"{label}: {value}" for label, value in items)


def build_charts(data: service.Dashboard) -> dict[str, Markup]:
    """Each chart of the page, its numbers summarised in the chart's description."""
    no_data = _("No data for this period.")
    counts = data.challenges
    result: dict[str, Markup] = {}

    result["statuses"] = charts.bar_chart(
        "chart-statuses", _("Challenges by status"),
        ngettext("%(num)d challenge. %(items)s.", "%(num)d challenges. %(items)s.", counts.total,
                 items=_listing([(s.label, format_decimal(n)) for s, n in counts.by_status])),
        [charts.Datum(s.label, n, format_decimal(n)) for s, n in counts.by_status],
        empty_text=no_data, tick_format=format_decimal,
    )
    themes = counts.by_theme
    result["themes"] = charts.hbar_chart(
        "chart-themes", _("Challenges by theme"),
        _("Challenges per theme, most first. %(items)s.",
          items=_listing([(r.label, format_decimal(r.total)) for r in themes])),
        [charts.Datum(r.label, r.total, format_decimal(r.total)) for r in themes],
        empty_text=no_data,
    )
    top = counts.by_municipality[:TOP_MUNICIPALITIES]
    result["municipalities"] = charts.hbar_chart(
        "chart-municipalities", _("Challenges by municipality"),
        _("%(shown)s of %(count)s municipalities with challenges, most first. %(items)s.",
          shown=len(top), count=len(counts.by_municipality),
          items=_listing([(r.label, format_decimal(r.total)) for r in top])),
        [charts.Datum(r.label, r.total, format_decimal(r.total)) for r in top],
        empty_text=no_data,
    )
    result["funnel"] = charts.funnel_chart(
        "chart-funnel", _("From suggestion to procurement"),
        _("Challenge and start-up pairs per step. %(items)s.",
          items=_listing([(s.label, f"{format_decimal(s.pairs)} ({percent(s.of_first)})") for s in data.funnel])),
        [charts.Datum(s.label, s.pairs, f"{format_decimal(s.pairs)} · {percent(s.of_first)}") for s in data.funnel],
        empty_text=no_data,
    )
    def band_summary(band) -> str:
        return _("%(rate)s, %(accepted)s of %(decided)s", rate=percent(band.rate), accepted=band.accepted,
                 decided=band.decided)

    bands = data.bands if any(b.total for b in data.bands) else []
    result["acceptance"] = charts.bar_chart(
        "chart-acceptance", _("Acceptance rate by score band"),
        _("Accepted out of accepted and rejected suggestions, per score band. %(items)s.",
          items=_listing([(b.label, band_summary(b)) for b in bands]))
        if bands else no_data,
        [charts.Datum(b.label, 100 * (b.rate or 0),
                      f"{percent(b.rate)} ({b.accepted}/{b.decided})" if b.decided else _("none decided"))
         for b in bands],
        empty_text=no_data, y_max=100, tick_format=lambda v: format_percent(v / 100, "#,##0%"),
    )

    wait = data.time_to_match
    result["wait"] = charts.bar_chart(
        "chart-wait", _("Time from publication to the first accepted match"),
        ngettext("%(num)d published challenge; median %(median)s days. %(items)s.",
                 "%(num)d published challenges; median %(median)s days. %(items)s.", len(wait.rows),
                 median=days(wait.median_days),
                 items=_listing([(label, format_decimal(n)) for _key, label, n in wait.buckets])),
        [charts.Datum(label, n, format_decimal(n)) for _key, label, n in wait.buckets],
        empty_text=no_data, tick_format=format_decimal,
    )
    result["wait_curve"] = charts.line_chart(
        "chart-wait-curve", _("Share of published challenges with an accepted match, by days since publication"),
        _listing([(_("after %(days)s days", days=format_decimal(d)), percent(share / 100))
                  for d, share in wait.curve]) + "." if wait.curve else no_data,
        [charts.Series(_("Challenges with an accepted match"), wait.curve)] if wait.curve else [],
        empty_text=no_data, x_label=_("Days since publication"), y_label=_("Published challenges matched (%)"),
        y_max=100, step=True, x_format=format_decimal, y_format=lambda v: format_percent(v / 100, "#,##0%"),
    )
    return result
