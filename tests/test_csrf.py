"""SECURITY.md T14: with CSRF on, every state-changing route refuses a missing or foreign token."""
from __future__ import annotations

import re

import pytest

from tests.conftest import PASSWORD
from tests.test_access_matrix import POLICY


@pytest.fixture
def app(make_app):
    """This module's app keeps CSRF on (the other modules turn it off)."""
    return make_app(WTF_CSRF_ENABLED=True)



def _token(client, path="/auth/login") -> str:
    body = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body)
    assert match, "no csrf token on " + path
    return match.group(1)


def _login(client, email):
    token = _token(client)
    response = client.post("/auth/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302


def _post_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint != "static" and "POST" in rule.methods:
            yield rule.endpoint


def _allowed_principal(expected: dict) -> str:
    """A signed-in principal the policy lets through (so a refusal can only come from CSRF)."""
    for principal in ("admin", "facilitator", "muniA", "suA", "muniB", "suB"):
        if expected[principal] not in (403, 404, "login"):
            return principal
    raise AssertionError("no principal may use this route")


def test_every_post_route_needs_a_token(app, world):
    from tests.test_access_matrix import _prepare

    values = _prepare(app, world)
    checked = []
    for endpoint in _post_rules(app):
        method, template, data, expected = POLICY[endpoint]
        if method != "POST":
            data = {}  # GET+POST form routes: the policy table holds their GET url
        url = template.format(**values)
        client = app.test_client()
        _login(client, world.emails[_allowed_principal(expected)])
        missing = client.post(url, data=data or {})
        assert missing.status_code == 400, f"{endpoint} without token: {missing.status_code}"
        stranger = app.test_client()
        foreign = _token(stranger)
        wrong = client.post(url, data={**(data or {}), "csrf_token": foreign})
        assert wrong.status_code == 400, f"{endpoint} with another session's token: {wrong.status_code}"
        checked.append(endpoint)
    assert len(checked) >= 15


def test_a_valid_token_is_accepted(app, world):
    client = app.test_client()
    _login(client, world.emails["suA"])
    token = _token(client, "/startups/profile")
    response = client.post("/language", data={"locale": "fr", "csrf_token": token})
    assert response.status_code == 302
