"""The facilitators' dashboard: the numbers on a small known world, charts, CSV downloads, access."""
from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from proeftuin import charts
from proeftuin.enums import ChallengeStatus, ExperimentStatus, OrgKind, Role, SuggestionStatus, Theme
from proeftuin.extensions import db
from proeftuin.models import AuditEvent, Challenge, Experiment, MatchSuggestion, Organisation, User
from proeftuin.services import Forbidden
from proeftuin.services import dashboard as service
from tests.conftest import login, make_challenge, make_org, make_profile, make_user

NOW = datetime.now(UTC)


# ---- helpers -----------------------------------------------------------------------------------


class _Tables(HTMLParser):
    """Collects the text of every cell of every table with an id: {id: [[cell, ...], ...]}."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id"):
            self._table = attrs["id"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables(body: str) -> dict[str, dict[str, list[str]]]:
    """Each table as {first cell of a row: the other cells}."""
    parser = _Tables()
    parser.feed(body)
    return {name: {row[0]: row[1:] for row in rows} for name, rows in parser.tables.items()}


def read_csv(response) -> list[list[str]]:
    text = response.get_data().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def csv_by_code(response) -> dict[str, list[str]]:
    rows = read_csv(response)
    return {row[0]: row for row in rows[1:]}


def staff_client(app, world, locale: str = "en"):
    client = app.test_client()
    login(client, world.emails["facilitator"])
    client.post("/language", data={"locale": locale})
    return client


def suggestion(challenge_id: int, profile_id: int, score: float, status: SuggestionStatus, *,
               created_days_ago: float = 5, decided_days_ago: float | None = None) -> MatchSuggestion:
    row = MatchSuggestion(
        challenge_id=challenge_id, profile_id=profile_id, score=score, rank=1, engine_id="test",
        challenge_hash="c", profile_hash="p", status=status, created_at=NOW - timedelta(days=created_days_ago),
        decided_at=None if decided_days_ago is None else NOW - timedelta(days=decided_days_ago),
    )
    db.session.add(row)
    db.session.flush()
    return row


@pytest.fixture
def known(app, world):
    """Three more challenges, seven suggestions and three experiments, with known outcomes.

    Challenges (with the world's three, created today, never given a published_at):
      health   Gent    published  published 20 days ago   themes health + mobility
      care     Leuven  closed     published 10 days ago   theme health
      old      Leuven  published  created and published 400 days ago (outside every short period)
    Suggestions (score -> band): low < 1.5 <= medium < 2.5 <= high < 3.5 <= top
      s1 health p1 3.8 top    accepted 17 days ago  -> health matched after 3 days
      s2 health p2 2.0 medium rejected
      s3 health p3 1.0 low    needs info
      s4 care   p1 3.0 high   accepted 2 days ago   -> care matched after 8 days
      s5 care   p2 4.0 top    rejected
      s6 care   p3 3.6 top    accepted 1 day ago (not the first)
      s7 old    p1 1.2 low    proposed, made 400 days ago
    Experiments:
      e1 health with start-up 1 (running)                          -> s1 in an experiment
      e2 care made from s4 (no start-ups listed), procurement, awarded -> s4 to the end of the funnel
      e3 care with start-up 2, procurement                          -> s5 was rejected: not counted
    """
    with app.app_context():
        gent = db.session.get(Organisation, world.ids["org_muniA"])
        leuven = db.session.scalar(sa.select(Organisation).where(Organisation.name == "Leuven"))
        health = make_challenge(gent, "Health challenge", themes=(Theme.HEALTH, Theme.MOBILITY))
        health.published_at = NOW - timedelta(days=20)
        care = make_challenge(leuven, "Care challenge", ChallengeStatus.CLOSED, themes=(Theme.HEALTH,))
        care.published_at = NOW - timedelta(days=10)
        old = make_challenge(leuven, "Old challenge")
        old.created_at = old.published_at = NOW - timedelta(days=400)
        orgs = [make_org(OrgKind.STARTUP, f"Dash start-up {i}") for i in (1, 2, 3)]
        p1, p2, p3 = (make_profile(org, f"Tagline {org.name}", "Capabilities of this start-up.") for org in orgs)
        s1 = suggestion(health.id, p1.id, 3.8, SuggestionStatus.ACCEPTED, decided_days_ago=17)
        suggestion(health.id, p2.id, 2.0, SuggestionStatus.REJECTED, decided_days_ago=16)
        suggestion(health.id, p3.id, 1.0, SuggestionStatus.NEEDS_INFO, decided_days_ago=16)
        s4 = suggestion(care.id, p1.id, 3.0, SuggestionStatus.ACCEPTED, decided_days_ago=2)
        suggestion(care.id, p2.id, 4.0, SuggestionStatus.REJECTED, decided_days_ago=2)
        suggestion(care.id, p3.id, 3.6, SuggestionStatus.ACCEPTED, decided_days_ago=1)
        suggestion(old.id, p1.id, 1.2, SuggestionStatus.PROPOSED, created_days_ago=400)
        common = {"hypothesis": "It works."}
        db.session.add_all([
            Experiment(title="e1", challenge_id=health.id, status=ExperimentStatus.RUNNING, startups=[orgs[0]],
                       **common),
            Experiment(title="e2", challenge_id=care.id, suggestion_id=s4.id, status=ExperimentStatus.PROCUREMENT,
                       procurement_awarded=True, **common),
            Experiment(title="e3", challenge_id=care.id, status=ExperimentStatus.PROCUREMENT, startups=[orgs[1]],
                       **common),
        ])
        db.session.commit()
        assert s1.id
        return {"health": health.id, "care": care.id, "old": old.id}


# ---- the numbers -------------------------------------------------------------------------------


def test_challenges_by_status_theme_and_municipality(app, world, known):
    client = staff_client(app, world)
    page = client.get("/dashboard/")
    assert page.status_code == 200
    t = tables(page.get_data(as_text=True))
    # world: a draft and two open challenges; known: two open, one closed.
    assert t["table-statuses"]["Draft"] == ["1"]
    assert t["table-statuses"]["Open"] == ["4"]
    assert t["table-statuses"]["Closed"] == ["1"]
    assert t["table-statuses"]["Total"] == ["6"]
    # Theme rows: total, then draft, open, closed, in experiment, completed, archived.
    assert t["table-themes"]["Mobility"] == ["5", "1", "4", "0", "0", "0", "0"]
    assert t["table-themes"]["Health"] == ["2", "0", "1", "1", "0", "0", "0"]
    assert t["table-themes"]["Education"][0] == "0"
    assert t["table-municipalities"]["Gent"][:4] == ["East Flanders", "3", "1", "2"]
    assert t["table-municipalities"]["Leuven"][:5] == ["Flemish Brabant", "3", "0", "2", "1"]

    themes = csv_by_code(client.get("/dashboard/themes.csv"))
    assert themes["health"][1:5] == ["Health", "2", "0", "1"]
    municipalities = csv_by_code(client.get("/dashboard/municipalities.csv"))
    assert municipalities["24062"][1:4] == ["Leuven", "Flemish Brabant", "3"]


def test_funnel_counts_pairs_step_by_step(app, world, known):
    client = staff_client(app, world)
    t = tables(client.get("/dashboard/").get_data(as_text=True))["table-funnel"]
    assert t["Suggested"] == ["7", "100%", "–"]
    assert t["Accepted by a facilitator"] == ["3", "42.9%", "42.9%"]
    # s1 through e1 (same challenge, start-up listed), s4 through e2 (made from the suggestion);
    # e3's pair was rejected, so it does not count.
    assert t["In an experiment"] == ["2", "28.6%", "66.7%"]
    assert t["Follow-up procurement"] == ["1", "14.3%", "50%"]
    assert t["Contract awarded"] == ["1", "14.3%", "100%"]

    rows = csv_by_code(client.get("/dashboard/funnel.csv"))
    assert [rows[k][2] for k in ("suggested", "accepted", "experiment", "procurement", "awarded")] == \
        ["7", "3", "2", "1", "1"]
    assert rows["experiment"][3:] == ["28.6", "66.7"]


def test_acceptance_rate_per_score_band(app, world, known):
    client = staff_client(app, world)
    t = tables(client.get("/dashboard/").get_data(as_text=True))["table-acceptance"]
    # columns: scores, suggestions, accepted, rejected, needs info, not yet decided, rate
    assert t["Weak fit"] == ["below 1.5", "2", "0", "0", "1", "1", "–"]
    assert t["Possible fit"] == ["1.5 – 2.5", "1", "0", "1", "0", "0", "0%"]
    assert t["Good fit"] == ["2.5 – 3.5", "1", "1", "0", "0", "0", "100%"]
    assert t["Strong fit"] == ["3.5 and above", "3", "2", "1", "0", "0", "66.7%"]

    rows = csv_by_code(client.get("/dashboard/acceptance.csv"))
    assert rows["top"][2:] == ["3.5", "", "3", "2", "1", "0", "0", "3", "66.7"]
    assert rows["low"][2:] == ["", "1.5", "2", "0", "0", "1", "1", "0", ""]


def test_time_to_first_accepted_match(app, world, known):
    client = staff_client(app, world)
    body = client.get("/dashboard/").get_data(as_text=True)
    t = tables(body)
    assert t["table-wait"]["1 to 7 days"] == ["1"]  # health: 3 days
    assert t["table-wait"]["8 to 30 days"] == ["1"]  # care: 8 days, from the first of its two acceptances
    assert t["table-wait"]["No accepted match yet"] == ["1"]  # old
    assert "median wait was 5.5 days" in body
    assert list(t["table-waiting"]) == ["Challenge", "Old challenge"]
    assert t["table-waiting"]["Old challenge"][:2] == ["Leuven", "Open"]
    assert t["table-waiting"]["Old challenge"][3] == "400"

    rows = {row[1]: row for row in read_csv(client.get("/dashboard/time-to-match.csv"))[1:]}
    assert set(rows) == {"Health challenge", "Care challenge", "Old challenge"}
    assert rows["Health challenge"][6] == "3.0"
    assert rows["Care challenge"][6] == "8.0"
    assert rows["Old challenge"][6] == "" and rows["Old challenge"][7] == "400"
    assert rows["Care challenge"][4].endswith("Z")


def test_period_filter_narrows_every_figure(app, world, known):
    client = staff_client(app, world)
    body = client.get("/dashboard/?period=90").get_data(as_text=True)
    t = tables(body)
    assert t["table-statuses"]["Open"] == ["3"]  # the old challenge was created 400 days ago
    assert t["table-funnel"]["Suggested"][0] == "6"  # s7 was made 400 days ago
    assert t["table-acceptance"]["Weak fit"][1] == "1"
    assert "No accepted match yet" not in "".join(k for k, v in t["table-wait"].items() if v != ["0"])
    assert "table-waiting" not in t
    assert '<option value="90" selected>' in body
    assert 'href="/dashboard/funnel.csv?period=90"' in body
    rows = csv_by_code(client.get("/dashboard/funnel.csv?period=90"))
    assert rows["suggested"][2] == "6"
    assert client.get("/dashboard/?period=7").status_code == 400
    assert client.get("/dashboard/?period=all").status_code == 200
    assert client.get("/dashboard/themes.csv?period=forever").status_code == 400


def test_labels_follow_the_readers_language(app, world, known):
    client = staff_client(app, world, "nl")
    themes = csv_by_code(client.get("/dashboard/themes.csv"))
    assert themes["mobility"][1] == "Mobiliteit"
    statuses = csv_by_code(client.get("/dashboard/statuses.csv"))
    assert statuses["closed"][1] == "Gesloten"
    assert "Mobiliteit" in client.get("/dashboard/").get_data(as_text=True)
    client.post("/language", data={"locale": "fr"})
    body = client.get("/dashboard/").get_data(as_text=True)
    assert "Mobilité" in body and "66,7%" in body
    assert csv_by_code(client.get("/dashboard/statuses.csv"))["closed"][1] == "Clôturé"


# ---- charts ------------------------------------------------------------------------------------


def _contrast(hex_colour: str, background: str = "#ffffff") -> float:
    def luminance(colour: str) -> float:
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(hex_colour), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_every_chart_is_an_accessible_image_with_its_numbers(app, world, known):
    body = staff_client(app, world).get("/dashboard/").get_data(as_text=True)
    svgs = re.findall(r"<svg [^>]*>.*?</svg>", body, re.S)
    assert len(svgs) == 7
    for svg in svgs:
        chart_id = re.search(r'id="([^"]+)"', svg).group(1)
        assert 'role="img"' in svg
        assert f'aria-labelledby="{chart_id}-title {chart_id}-desc"' in svg
        assert re.search(f'<title id="{chart_id}-title">[^<]+</title>', svg)
        assert re.search(f'<desc id="{chart_id}-desc">[^<]+</desc>', svg)
        assert "style=" not in svg and "<script" not in svg
        for colour in re.findall(r'<text [^>]*fill="(#[0-9a-f]{6})"', svg):
            assert _contrast(colour) >= 4.5, (chart_id, colour)
    funnel = next(s for s in svgs if 'id="chart-funnel"' in s)
    assert "Suggested: 7 (100%)" in funnel and "Contract awarded: 1 (14.3%)" in funnel
    # Every step has its own pattern, not only its own colour.
    assert len(set(re.findall(r'fill="url\(#(chart-funnel-p\d)\)"', funnel))) == 5
    acceptance = next(s for s in svgs if 'id="chart-acceptance"' in s)
    assert "Strong fit: 66.7%, 2 of 3" in acceptance
    # The numbers sit under each chart, in a table inside a <details>.
    assert body.count("<details>") >= 6


def test_chart_labels_are_escaped():
    svg = charts.hbar_chart("chart-x", "<b>title</b>", "desc & more",
                            [charts.Datum('"><script>alert(1)</script>', 3, "3")], empty_text="none")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;b&gt;title" in svg
    with pytest.raises(ValueError):
        charts.bar_chart('x" onload="y', "t", "d", [], empty_text="none")


def test_charts_draw_empty_data_as_a_message():
    svg = charts.line_chart("chart-y", "t", "d", [], empty_text="Nothing yet", x_label="x", y_label="y")
    assert "Nothing yet" in svg and 'role="img"' in svg
    assert charts.nice_ticks(7) == [0, 2, 4, 6, 8]
    assert charts.nice_ticks(100) == [0, 20, 40, 60, 80, 100]


# ---- CSV ---------------------------------------------------------------------------------------


def test_csv_download_headers_and_audit(app, world, known):
    client = staff_client(app, world)
    response = client.get("/dashboard/acceptance.csv?period=365")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(r"attachment; filename\*=UTF-8''proeftuin-acceptance-365-\d{4}-\d{2}-\d{2}\.csv",
                        response.headers["Content-Disposition"])
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert read_csv(response)[0][:2] == ["Code", "Score band"]
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "export"))
        assert event.actor_id == world.ids["facilitator"]
        assert event.detail == {"dataset": "acceptance", "period": "365", "rows": 4}


def test_csv_cells_cannot_become_formulas(app, world):
    assert service.csv_cell("=SUM(A1)") == "'=SUM(A1)"
    assert [service.csv_cell(v) for v in ("+1", "-1", "@x", "\tx", "plain", 3, 2.5, None)] == \
        ["'+1", "'-1", "'@x", "'\tx", "plain", 3, 2.5, ""]
    with app.app_context():
        evil = make_org(OrgKind.MUNICIPALITY, "=HYPERLINK(\"http://evil.example\")")
        challenge = make_challenge(evil, "+cmd|' /C calc'!A0")
        challenge.published_at = NOW - timedelta(days=1)
        db.session.commit()
    client = staff_client(app, world)
    rows = read_csv(client.get("/dashboard/time-to-match.csv"))
    row = next(r for r in rows if "calc" in r[1])
    assert row[1] == "'+cmd|' /C calc'!A0"
    assert row[2] == "'=HYPERLINK(\"http://evil.example\")"
    municipalities = read_csv(client.get("/dashboard/municipalities.csv"))
    assert any(r[1].startswith("'=HYPERLINK") for r in municipalities)


def test_unknown_dataset_is_not_found(app, world):
    client = staff_client(app, world)
    assert client.get("/dashboard/secrets.csv").status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "export")) == 0


def test_downloads_are_rate_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True, EXPORT_RATE_LIMIT="2 per hour")
    with app.app_context():
        make_user("fac@example.org", Role.FACILITATOR, make_org(OrgKind.FACILITATOR, "Steunpunt"))
        db.session.commit()
    client = app.test_client()
    login(client, "fac@example.org")
    statuses = [client.get("/dashboard/themes.csv").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert client.get("/dashboard/").status_code == 200  # the page itself is not limited


# ---- access and the empty platform -------------------------------------------------------------


@pytest.mark.parametrize("principal", ["muniA", "suA"])
def test_others_are_refused(app, world, known, principal):
    client = app.test_client()
    login(client, world.emails[principal])
    assert client.get("/dashboard/").status_code == 403
    assert client.get("/dashboard/funnel.csv").status_code == 403
    assert "/dashboard/" not in client.get("/").get_data(as_text=True)
    with app.app_context():
        user = db.session.get(User, world.ids[principal])
        with pytest.raises(Forbidden):
            service.overview(user, "all")
        with pytest.raises(Forbidden):
            service.export_csv(user, "funnel", "all")
    anonymous = app.test_client().get("/dashboard/themes.csv")
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.location


def test_staff_see_the_dashboard_in_the_menu(app, world):
    client = staff_client(app, world)
    assert 'href="/dashboard/"' in client.get("/").get_data(as_text=True)


def test_an_empty_platform_renders(app):
    with app.app_context():
        make_user("admin@example.org", Role.ADMIN)
        db.session.commit()
    client = app.test_client()
    login(client, "admin@example.org")
    page = client.get("/dashboard/")
    assert page.status_code == 200
    assert page.get_data(as_text=True).count('role="img"') == 7
    for dataset in service.DATASETS:
        response = client.get(f"/dashboard/{dataset}.csv")
        assert response.status_code == 200, dataset
    assert len(read_csv(client.get("/dashboard/time-to-match.csv"))) == 1  # the header only
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Challenge)) == 0
