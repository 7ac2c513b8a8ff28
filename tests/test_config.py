"""Configuration refuses unsafe production settings; responses carry the security headers."""
from __future__ import annotations

import pytest

from proeftuin import create_app
from proeftuin.config import ConfigError, ProductionConfig, parse_bool, parse_int

GOOD = {"SECRET_KEY": "k" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SESSION_COOKIE_SECURE": True}


@pytest.mark.parametrize("change", [
    {"SECRET_KEY": None}, {"SECRET_KEY": "short"}, {"SQLALCHEMY_DATABASE_URI": None},
    {"DEBUG": True}, {"SESSION_COOKIE_SECURE": False},
    {"WEB_WORKERS": 4, "RATELIMIT_STORAGE_URI": "memory://"},
])
def test_production_refuses_unsafe_settings(change):
    config = type("Prod", (ProductionConfig,), {**GOOD, **change})
    with pytest.raises(ConfigError):
        create_app(config)


def test_production_starts_with_safe_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("PROEFTUIN_INSTANCE_PATH", str(tmp_path))
    config = type("Prod", (ProductionConfig,), {**GOOD, "WEB_WORKERS": 4,
                                                 "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379"})
    app = create_app(config)
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-session"


def test_parsers_fail_loudly():
    assert parse_bool("yes") is True and parse_bool(None, True) is True
    assert parse_int("5", 1) == 5
    with pytest.raises(ConfigError):
        parse_bool("maybe")
    with pytest.raises(ConfigError):
        parse_int("five", 1)


def test_security_headers_on_pages_and_errors(client, world):
    for path in ("/", "/does-not-exist", "/challenges/?theme=bad"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp and "base-uri" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"]
        assert "Cookie" in response.headers.get("Vary", "")


def test_signed_in_pages_are_not_cached(client, world):
    from tests.conftest import login
    login(client, world.emails["suA"])
    assert client.get("/applications/").headers["Cache-Control"] == "no-store"


def test_errors_do_not_leak_internals(make_app):
    app = make_app()

    @app.get("/boom")
    def boom():
        raise RuntimeError("SECRET internal detail")

    boom.access = frozenset({"anyone"})
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "SECRET internal detail" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
