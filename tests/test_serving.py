"""Serving (issue 7): slow clients cannot starve gunicorn, and rate limits hold across processes.

The Redis test needs `TEST_REDIS_URL` (e.g. redis://127.0.0.1:6379/0) and is skipped without it.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from proeftuin.enums import Role
from proeftuin.extensions import db
from tests.conftest import PASSWORD, make_user

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
REDIS_URL = os.environ.get("TEST_REDIS_URL")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "PROEFTUIN_INSTANCE_PATH": str(tmp_path), "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "PROEFTUIN_EMBEDDING_MODEL": "hashing-test", "LOG_LEVEL": "WARNING",
           "PROEFTUIN_ENV": "development", **extra}
    for name in ("TEST_DATABASE_URL", "DATABASE_URL", "WEB_CONCURRENCY", "PROEFTUIN_WEB_PROCESSES",
                 "GUNICORN_CMD_ARGS"):
        env.pop(name, None)
    return env


def gunicorn(port: int, *args: str) -> list[str]:
    return [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", *args, "app:app"]


@pytest.fixture
def served(tmp_path):
    """gunicorn with the repository's gunicorn.conf.py on a free port, against a temporary SQLite."""
    port = free_port()
    log = open(tmp_path / "gunicorn.log", "w+b")
    server = subprocess.Popen(gunicorn(port), cwd=ROOT, env=server_env(tmp_path), stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2)
                break
            except OSError:
                log.seek(0)
                assert server.poll() is None, log.read().decode(errors="replace")[-3000:]
                assert time.monotonic() < deadline, "gunicorn did not answer /healthz within 60 s"
                time.sleep(0.2)
        yield port, base
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)
        log.close()


def half_open(port: int) -> socket.socket:
    """A client that sends half a request and then holds the connection open."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow")
    return sock


def timed_healthz(base: str) -> float:
    started = time.monotonic()
    with urllib.request.urlopen(base + "/healthz", timeout=1) as response:
        assert response.status == 200 and b"ok" in response.read()
    return time.monotonic() - started


def test_half_open_clients_do_not_starve_the_server(served):
    port, base = served
    slow = [half_open(port) for _ in range(2)]
    try:
        time.sleep(0.5)  # let the server hand both connections to its threads
        latencies = [timed_healthz(base) for _ in range(5)]
        assert max(latencies) < 1.0, latencies
    finally:
        for sock in slow:
            sock.close()


def test_production_with_several_workers_and_memory_limits_does_not_start(tmp_path):
    env = server_env(tmp_path, PROEFTUIN_ENV="production", SECRET_KEY="k" * 40,
                     DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite", PUBLIC_URL="https://proeftuin.example",
                     RATELIMIT_STORAGE_URI="memory://")
    env.pop("REDIS_URL", None)
    result = subprocess.run(gunicorn(free_port(), "--workers", "2"), cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "shared storage" in result.stderr


# ---- rate limits ---------------------------------------------------------------------------------

def attempt(client, email: str, ip: str, password: str = "wrong password", headers: dict | None = None):
    return client.post("/auth/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": ip}, headers=headers or {})


def test_guesses_spread_over_many_addresses_stop_at_the_account_limit(make_app):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_ACCOUNT_RATE_LIMIT="20 per 15 minutes")
    with app.app_context():
        make_user("victim@example.org", Role.STARTUP)
        make_user("other@example.org", Role.STARTUP)
        db.session.commit()
    client = app.test_client()
    # Case and spaces do not open a fresh counter: the key is the normalised address.
    variants = ["victim@example.org", " Victim@Example.org ", "VICTIM@EXAMPLE.ORG"]
    statuses = [attempt(client, variants[n % 3], f"10.0.{n}.1").status_code for n in range(20)]
    assert statuses == [200] * 20
    refused = attempt(client, "victim@example.org", "10.9.9.9", headers={"Accept-Language": "fr"})
    assert refused.status_code == 429
    assert "Trop de tentatives" in refused.get_data(as_text=True)  # the translated page, not a 500
    # The limit holds for the right password too, but only for this account.
    assert attempt(client, "victim@example.org", "10.9.9.8", PASSWORD).status_code == 429
    assert attempt(client, "other@example.org", "10.9.9.8", PASSWORD).status_code == 302


def test_the_account_limit_ends_with_its_window(make_app):
    """A window, not a lockout: the victim logs in again once it has passed."""
    from freezegun import freeze_time

    app = make_app(RATELIMIT_ENABLED=True, LOGIN_ACCOUNT_RATE_LIMIT="3 per 15 minutes")
    with app.app_context():
        make_user("victim@example.org", Role.STARTUP)
        db.session.commit()
    client = app.test_client()
    with freeze_time("2030-01-01 12:00:00") as frozen:
        assert [attempt(client, "victim@example.org", f"10.1.{n}.1").status_code for n in range(4)] == [
            200, 200, 200, 429]
        frozen.tick(15 * 60 + 1)
        assert attempt(client, "victim@example.org", "10.1.9.1", PASSWORD).status_code == 302


@pytest.mark.skipif(not REDIS_URL, reason="set TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
def test_two_processes_share_one_login_counter_in_redis(make_app, tmp_path):
    """Five attempts here, five in another process, and the eleventh, here again, is refused."""
    email, ip = f"{uuid.uuid4().hex}@example.org", f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=REDIS_URL)
    client = app.test_client()
    assert [attempt(client, email, ip).status_code for _ in range(5)] == [200] * 5
    other = textwrap.dedent(f"""
        from proeftuin import create_app
        from proeftuin.config import TestingConfig
        from proeftuin.extensions import db
        app = create_app(type("Other", (TestingConfig,), {{
            "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": {REDIS_URL!r},
            "SQLALCHEMY_DATABASE_URI": "sqlite://", "MAIL_OUTBOX_DIR": {str(tmp_path / "outbox2")!r}}}))
        with app.app_context():
            db.create_all()
        client = app.test_client()
        print(" ".join(str(client.post("/auth/login", data={{"email": {email!r}, "password": "wrong password"}},
                                       environ_base={{"REMOTE_ADDR": {ip!r}}}).status_code) for _ in range(5)))
    """)
    result = subprocess.run([sys.executable, "-c", other], cwd=ROOT, env=server_env(tmp_path / "other"),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["200"] * 5
    assert attempt(client, email, ip).status_code == 429
