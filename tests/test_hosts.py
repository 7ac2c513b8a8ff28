"""Links in mail come from PUBLIC_URL; a Host or X-Forwarded-Host the client chose is refused (issue 7)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from proeftuin.enums import Role
from proeftuin.extensions import db
from tests.conftest import make_user, outbox_messages

ROOT = Path(__file__).resolve().parent.parent
PUBLIC_URL = "https://proeftuin.example"
EMAIL = "resetme@example.org"


@pytest.fixture
def public_app(make_app):
    def factory(**overrides):
        app = make_app(PUBLIC_URL=PUBLIC_URL, **overrides)
        with app.app_context():
            make_user(EMAIL, Role.STARTUP)
            db.session.commit()
        return app

    return factory


def mailed_links(app) -> list[str]:
    return [re.sub(r"=\n", "", message) for message in outbox_messages(app)]


@pytest.mark.parametrize(("hops", "headers"), [
    (0, {"Host": "evil.example"}),
    (1, {"Host": "evil.example"}),
    (1, {"X-Forwarded-Host": "evil.example"}),
    (1, {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"}),
])
def test_reset_with_a_foreign_host_is_refused_and_mails_nothing(public_app, hops, headers):
    app = public_app(PROXY_FIX_HOPS=hops)
    response = app.test_client().post("/auth/reset", data={"email": EMAIL}, headers=headers)
    assert response.status_code == 400
    assert "evil.example" not in response.get_data(as_text=True)
    assert outbox_messages(app) == []


@pytest.mark.parametrize("headers", [{}, {"Host": "proeftuin.example"}, {"X-Forwarded-Host": "evil.example"}])
def test_reset_link_starts_with_public_url_and_holds_a_valid_token(public_app, headers):
    """Trusted hosts are served; without ProxyFix, X-Forwarded-Host is ignored, never used for links."""
    app = public_app()
    client = app.test_client()
    assert client.post("/auth/reset", data={"email": EMAIL}, headers=headers).status_code == 302
    (message,) = mailed_links(app)
    assert "evil.example" not in message
    match = re.search(r"https?://\S*/auth/reset/\S+", message)
    assert match and match.group(0).startswith(PUBLIC_URL + "/auth/reset/")
    path = match.group(0)[len(PUBLIC_URL):]
    assert client.get(path).status_code == 200  # the token in the link is valid


def test_unknown_hosts_get_a_plain_400_on_every_page(public_app):
    client = public_app(PROXY_FIX_HOPS=1).test_client()
    for path in ("/", "/healthz", "/auth/login", "/does-not-exist"):
        response = client.get(path, headers={"Host": "evil.example:8000"})
        assert response.status_code == 400
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/healthz", headers={"Host": "proeftuin.example:443"}).status_code == 200
    assert client.get("/healthz", headers={"X-Forwarded-Host": "proeftuin.example"}).status_code == 200


def test_no_code_builds_absolute_links_from_the_request():
    """Every absolute link goes through proeftuin.links (PUBLIC_URL); nothing reads the request's host."""
    forbidden = re.compile(r"_external\s*=|request\.(host|host_url|url_root|root_url|base_url)\b"
                           r"|HTTP_HOST|HTTP_X_FORWARDED_HOST")
    offenders = []
    for folder in ("proeftuin", "templates"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix not in {".py", ".html", ".txt"} or path.name == "links.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if forbidden.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []
