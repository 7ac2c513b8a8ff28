"""SECURITY.md T1: every route x every principal against one declared policy table.

A route missing from POLICY fails the test, so a new route cannot ship undeclared.
Expected values: an HTTP status, or "login" for a redirect to the log-in page.
"""
from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

from tests.conftest import login

PRINCIPALS = ("anon", "muniA", "muniB", "suA", "suB", "facilitator", "admin")


def everyone(status):
    return {p: status for p in PRINCIPALS}


def only(allowed: dict[str, int], otherwise: int = 403, anon="login"):
    table = {p: otherwise for p in PRINCIPALS}
    table["anon"] = anon
    table.update(allowed)
    return table


SIGNED_IN_200 = only({p: 200 for p in PRINCIPALS if p != "anon"})

# endpoint -> (method, url template, data, expected per principal)
POLICY = {
    "main.index": ("GET", "/", None, everyone(200)),
    "main.healthz": ("GET", "/healthz", None, everyone(200)),
    "main.set_language": ("POST", "/language", {"locale": "fr"}, everyone(302)),
    "auth.register": ("GET", "/auth/register", None, only({"anon": 200}, 302, anon=200)),
    "auth.login": ("GET", "/auth/login", None, only({"anon": 200}, 302, anon=200)),
    "auth.logout": ("POST", "/auth/logout", {}, only({p: 302 for p in PRINCIPALS[1:]})),
    "auth.reset_request": ("GET", "/auth/reset", None, everyone(200)),
    "auth.reset_password": ("GET", "/auth/reset/not-a-token", None, everyone(302)),
    "auth.account": ("GET", "/auth/account", None, SIGNED_IN_200),
    "challenges.index": ("GET", "/challenges/", None, everyone(200)),
    "challenges.mine": ("GET", "/challenges/mine", None, only({"muniA": 200, "muniB": 200})),
    "challenges.detail": ("GET", "/challenges/{draft}", None,
                          only({"muniA": 200, "facilitator": 200, "admin": 200}, 404, anon=404)),
    "challenges.create": ("GET", "/challenges/new", None, only({"muniA": 200, "muniB": 200})),
    "challenges.edit": ("GET", "/challenges/{draft}/edit", None, only({"muniA": 200, "muniB": 404})),
    "challenges.change_status": ("POST", "/challenges/{published}/status", {"action": "publish"},
                                 only({"muniA": 302, "muniB": 404})),
    "challenges.applications": ("GET", "/challenges/{published}/applications", None,
                                only({"muniA": 200, "muniB": 404, "facilitator": 200, "admin": 200})),
    "challenges.suggestions": ("GET", "/challenges/{published}/suggestions", None,
                               only({"muniA": 200, "muniB": 404, "facilitator": 200, "admin": 200})),
    "challenges.apply": ("GET", "/challenges/{published}/apply", None, only({"suA": 302, "suB": 200})),
    "startups.index": ("GET", "/startups/", None, everyone(200)),
    "startups.detail": ("GET", "/startups/{slug_suA}", None, everyone(200)),
    "startups.recommendations": ("GET", "/startups/recommendations", None, only({"suA": 200, "suB": 200})),
    "startups.edit_profile": ("GET", "/startups/profile", None, only({"suA": 200, "suB": 200})),
    "applications.index": ("GET", "/applications/", None, only({"suA": 200, "suB": 200})),
    "applications.detail": ("GET", "/applications/{application}", None,
                            only({"suA": 200, "suB": 404, "muniA": 200, "muniB": 404,
                                  "facilitator": 200, "admin": 200})),
    "applications.edit": ("GET", "/applications/{application}/edit", None, only({"suA": 200, "suB": 404})),
    "applications.withdraw": ("POST", "/applications/{application}/withdraw", {}, only({"suA": 302, "suB": 404})),
    "applications.decide": ("POST", "/applications/{application}/decision", {"decision": "shortlist"},
                            only({"muniA": 302, "muniB": 404})),
    "admin.index": ("GET", "/admin/", None, only({"admin": 200})),
    "admin.new_facilitator": ("GET", "/admin/facilitators/new", None, only({"admin": 200})),
    "admin.audit_log": ("GET", "/admin/audit", None, only({"admin": 200})),
    "review.queue": ("GET", "/review/", None, only({"facilitator": 200, "admin": 200})),
    "review.decide": ("POST", "/review/decide", {"ids": "{suggestion}", "decision": "accept"},
                      only({"facilitator": 302, "admin": 302})),
    "review.my_matches": ("GET", "/matches/", None, SIGNED_IN_200),
    "review.match": ("GET", "/matches/{accepted_suggestion}", None,
                     only({"muniA": 200, "muniB": 404, "suA": 200, "suB": 404, "facilitator": 200, "admin": 200})),
    "notifications.index": ("GET", "/notifications/", None, SIGNED_IN_200),
    "notifications.mark_read": ("POST", "/notifications/read", {}, only({p: 302 for p in PRINCIPALS[1:]})),
}

# Each area may keep its rows in tests/policy_<area>.py: a POLICY dict, and optionally
# prepare(world) -> dict of extra ids (run inside an app context) for its URL templates.
AREA_MODULES = [
    importlib.import_module(f"tests.{info.name}")
    for info in pkgutil.iter_modules([str(Path(__file__).parent)])
    if info.name.startswith("policy_")
]
for _module in AREA_MODULES:
    POLICY.update(_module.POLICY)


def _prepare(app, world) -> dict:
    from proeftuin.enums import SuggestionStatus
    from proeftuin.extensions import db
    from proeftuin.models import MatchSuggestion

    values = {**world.ids, "slug_suA": world.slugs["suA"]}
    with app.app_context():
        common = {"score": 2.0, "rank": 1, "engine_id": "test", "challenge_hash": "c", "profile_hash": "p"}
        proposed = MatchSuggestion(challenge_id=world.ids["published"], profile_id=world.ids["profile_b"],
                                   status=SuggestionStatus.PROPOSED, **common)
        accepted = MatchSuggestion(challenge_id=world.ids["published"], profile_id=world.ids["profile"],
                                   status=SuggestionStatus.ACCEPTED, **common)
        rows = [proposed, accepted]
        db.session.add_all(rows)
        db.session.commit()
        values["suggestion"] = rows[0].id
        values["accepted_suggestion"] = rows[1].id
        for module in AREA_MODULES:
            if hasattr(module, "prepare"):
                values.update(module.prepare(world))
    return values


def test_every_route_is_in_the_policy_table(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    assert endpoints - set(POLICY) == set(), "routes missing from the policy table"
    assert set(POLICY) - endpoints == set(), "policy entries for routes that no longer exist"


def test_every_view_declares_its_principals(app):
    for endpoint, view in app.view_functions.items():
        if endpoint != "static":
            assert getattr(view, "access", None), endpoint


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_route_role_matrix(app, world, principal):
    client = app.test_client()
    if principal != "anon":
        assert login(client, world.emails[principal]).status_code == 302
    values = _prepare(app, world)
    # Safe methods first, so the state-changing POSTs cannot influence them.
    ordered = sorted(POLICY.items(), key=lambda item: item[1][0] != "GET")
    failures = []
    for endpoint, (method, template, data, expected_by_principal) in ordered:
        if endpoint == "auth.logout":
            continue  # logging out would end the session for the routes after it
        url = template.format(**values)
        if data:
            data = {k: (v.format(**values) if isinstance(v, str) else v) for k, v in data.items()}
        response = client.open(url, method=method, data=data)
        expected = expected_by_principal[principal]
        if expected == "login":
            ok = response.status_code == 302 and "/auth/login" in response.location
        else:
            ok = response.status_code == expected
        if not ok:
            failures.append(f"{principal} {method} {url}: {response.status_code}, expected {expected}")
        if response.status_code in (403, 404):
            body = response.get_data(as_text=True)
            leaked = [m for m in world.markers.values() if m in body]
            if leaked:
                failures.append(f"{principal} {method} {url}: refusal leaks {leaked}")
    assert failures == []


@pytest.mark.parametrize("principal", PRINCIPALS[1:])
def test_logout_is_allowed_for_every_signed_in_role(app, world, principal):
    client = app.test_client()
    login(client, world.emails[principal])
    response = client.post("/auth/logout")
    assert response.status_code == 302
    assert client.get("/auth/account").status_code == 302
