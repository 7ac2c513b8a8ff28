"""SECURITY.md T8: the semantic layer never shows what the user may not see."""
from __future__ import annotations

import html
import re
from urllib.parse import quote_plus

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings

from proeftuin.enums import ApplicationStatus, ChallengeStatus, OrgKind
from proeftuin.extensions import db
from proeftuin.models import Application, Challenge, Organisation
from proeftuin.services import challenges as challenge_service
from proeftuin.services import matching
from tests.conftest import login, make_challenge, make_org

STATUSES = st.sampled_from(list(ChallengeStatus))
TEXTS = st.lists(st.sampled_from("heat school water waste care data sensor bike forms trees noise".split()),
                 min_size=2, max_size=6).map(" ".join)


def _shown_challenge_ids(body: str) -> set[int]:
    return {int(i) for i in re.findall(r'href="/challenges/(\d+)"', body)}


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(items=st.lists(st.tuples(STATUSES, TEXTS), min_size=1, max_size=6), query=TEXTS)
def test_search_only_returns_visible_challenges(make_app, items, query):
    app = make_app()
    with app.app_context():
        gent = make_org(OrgKind.MUNICIPALITY, "Gent", "44021")
        for n, (status, text) in enumerate(items):
            make_challenge(gent, f"Challenge {n} {text}", status, problem=text)
        db.session.commit()
        matching.rebuild()
    client = app.test_client()
    body = client.get("/challenges/?describe=" + quote_plus(query)).get_data(as_text=True)
    with app.app_context():
        for challenge_id in _shown_challenge_ids(body):
            assert challenge_service.can_view(None, db.session.get(Challenge, challenge_id))


def test_exact_text_of_a_draft_or_an_application_finds_nothing(app, world):
    with app.app_context():
        matching.rebuild()
        draft_title = db.session.get(Challenge, world.ids["draft"]).title
        proposal = db.session.get(Application, world.ids["application"]).proposal
    for principal in (None, "suB", "muniB"):
        client = app.test_client()
        if principal:
            login(client, world.emails[principal])
        for text in (draft_title, proposal):
            for path in ("/challenges/?describe=", "/startups/?describe="):
                body = client.get(path + quote_plus(text)).get_data(as_text=True)
                # The user's own query is echoed in the form; only results count.
                for echo in (quote_plus(text), html.escape(text), text):
                    body = body.replace(echo, "")
                assert world.markers["draft"] not in body and world.markers["application"] not in body
                assert f'href="/challenges/{world.ids["draft"]}"' not in body


def test_recommendations_only_show_open_challenges(app, world):
    with app.app_context():
        gent = db.session.get(Organisation, world.ids["org_muniA"])
        closed = make_challenge(gent, "Closed sensors for school streets", ChallengeStatus.CLOSED,
                                problem="We count traffic. Sensors for school streets.")
        late = make_challenge(gent, "Late sensors for school streets", deadline_days=-3,
                              problem="We count traffic. Sensors for school streets.")
        db.session.commit()
        closed_id, late_id = closed.id, late.id
        matching.rebuild()
    client = app.test_client()
    login(client, world.emails["suA"])
    body = client.get("/startups/recommendations").get_data(as_text=True)
    shown = _shown_challenge_ids(body)
    assert world.ids["published"] in shown
    assert not shown & {closed_id, late_id, world.ids["draft"]}


def test_suggestions_of_another_municipality_are_refused(app, world):
    client = app.test_client()
    login(client, world.emails["muniB"])
    assert client.get(f"/challenges/{world.ids['published']}/suggestions").status_code == 404
    assert client.get(f"/challenges/{world.ids['draft']}/suggestions").status_code == 404


def test_withdrawn_applications_are_not_in_suggestions_text(app, world):
    with app.app_context():
        application = db.session.get(Application, world.ids["application"])
        application.status = ApplicationStatus.WITHDRAWN
        db.session.commit()
        matching.rebuild()
    client = app.test_client()
    login(client, world.emails["muniA"])
    body = client.get(f"/challenges/{world.ids['published']}/suggestions").get_data(as_text=True)
    assert world.markers["application"] not in body
