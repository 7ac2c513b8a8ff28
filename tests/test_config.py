"""Configuration refuses unsafe production settings; responses carry the security headers."""
from __future__ import annotations

import os
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest

from proeftuin import create_app
from proeftuin.config import (
    ConfigError,
    DevelopmentConfig,
    ProductionConfig,
    TestingConfig,
    parse_bool,
    parse_int,
    parse_list,
    trusted_hosts,
)

ROOT = Path(__file__).resolve().parent.parent

GOOD = {"SECRET_KEY": "k" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SESSION_COOKIE_SECURE": True,
        "PUBLIC_URL": "https://proeftuin.example"}


@pytest.mark.parametrize("change", [
    {"SECRET_KEY": None}, {"SECRET_KEY": "short"}, {"SQLALCHEMY_DATABASE_URI": None},
    {"DEBUG": True}, {"SESSION_COOKIE_SECURE": False},
    {"WEB_PROCESSES": 4, "RATELIMIT_STORAGE_URI": "memory://"},
    {"WEB_PROCESSES": 2, "RATELIMIT_STORAGE_URI": "memory://"},
    {"PUBLIC_URL": None}, {"PUBLIC_URL": "http://proeftuin.example"}, {"PUBLIC_URL": "https://"},
    {"PUBLIC_URL": "https://user:pw@proeftuin.example"},
])
def test_production_refuses_unsafe_settings(change):
    config = type("Prod", (ProductionConfig,), {**GOOD, **change})
    with pytest.raises(ConfigError):
        create_app(config)


def test_production_starts_with_safe_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("PROEFTUIN_INSTANCE_PATH", str(tmp_path))
    config = type("Prod", (ProductionConfig,), {**GOOD, "WEB_PROCESSES": 4,
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



def gunicorn_hooks(monkeypatch) -> dict:
    """gunicorn.conf.py's settings and hooks; the process-count variable it sets is undone afterwards."""
    from proeftuin.config import WEB_PROCESSES_ENV

    monkeypatch.setenv(WEB_PROCESSES_ENV, "1")  # recorded, so the hook's value is undone after the test
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def fake_server(workers: int) -> SimpleNamespace:
    return SimpleNamespace(cfg=SimpleNamespace(workers=workers), log=SimpleNamespace(warning=lambda *a: None))


def test_production_reads_the_worker_count_gunicorn_published(tmp_path, monkeypatch):
    """The on_starting hook publishes server.cfg.workers, and the app's check reads that count."""
    from proeftuin.config import WEB_PROCESSES_ENV

    monkeypatch.setenv("PROEFTUIN_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("PROEFTUIN_ENV", "development")  # the hook itself stops only production
    hooks = gunicorn_hooks(monkeypatch)
    hooks["on_starting"](fake_server(2))
    assert os.environ[WEB_PROCESSES_ENV] == "2"
    memory = type("Prod", (ProductionConfig,), {**GOOD, "RATELIMIT_STORAGE_URI": "memory://"})
    with pytest.raises(ConfigError, match="shared storage"):
        create_app(memory)
    shared = type("Prod", (ProductionConfig,), {**GOOD, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379"})
    assert create_app(shared).config["TRUSTED_HOSTS"] == ["proeftuin.example"]
    hooks["nworkers_changed"](fake_server(1), 1, 2)
    assert create_app(memory).config["RATELIMIT_STORAGE_URI"] == "memory://"  # one process counts exactly


def test_the_gunicorn_hook_refuses_production_with_per_process_limits(monkeypatch):
    hooks = gunicorn_hooks(monkeypatch)
    monkeypatch.setattr(ProductionConfig, "RATELIMIT_STORAGE_URI", "memory://")
    monkeypatch.setenv("PROEFTUIN_ENV", "production")
    with pytest.raises(RuntimeError, match="shared storage"):
        hooks["on_starting"](fake_server(2))
    hooks["on_starting"](fake_server(1))


def test_gunicorn_serves_one_process_with_threads_and_no_preload(monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    settings = gunicorn_hooks(monkeypatch)
    assert settings["workers"] == 1 and settings["worker_class"] == "gthread" and settings["threads"] >= 4
    assert settings["preload_app"] is False
    assert settings["bind"] == ["127.0.0.1:8000"]
    assert "gunicorn -c gunicorn.conf.py" in (ROOT / "Makefile").read_text()


@pytest.mark.parametrize(("config", "expected"), [
    ({"PUBLIC_URL": "https://proeftuin.example:8443/", "EXTRA_TRUSTED_HOSTS": []}, ["proeftuin.example"]),
    ({"PUBLIC_URL": "https://a.example", "EXTRA_TRUSTED_HOSTS": ["b.example", "a.example"]},
     ["a.example", "b.example"]),
])
def test_trusted_hosts_come_from_public_url_and_the_list(config, expected):
    assert trusted_hosts(config) == expected


def test_trusted_hosts_per_environment(monkeypatch):
    monkeypatch.setenv("TRUSTED_HOSTS", " www.proeftuin.example , ,")
    assert parse_list(os.environ["TRUSTED_HOSTS"]) == ["www.proeftuin.example"]
    assert {"127.0.0.1", "localhost"} <= set(DevelopmentConfig.EXTRA_TRUSTED_HOSTS)
    assert "localhost" in TestingConfig.EXTRA_TRUSTED_HOSTS
    assert "localhost" not in ProductionConfig.EXTRA_TRUSTED_HOSTS
