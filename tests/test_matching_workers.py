"""SECURITY.md T23: searches keep working across gunicorn workers while the index is rebuilt."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def flask(env, *args) -> str:
    result = subprocess.run([str(BIN / "flask"), *args], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture
def served(tmp_path):
    env = {**os.environ, "FLASK_APP": "app.py", "PROEFTUIN_INSTANCE_PATH": str(tmp_path),
           "PROEFTUIN_EMBEDDING_MODEL": "hashing-test", "LOG_LEVEL": "WARNING", "SEARCH_RATE_LIMIT": "100000/minute"}
    env.pop("TEST_DATABASE_URL", None)
    flask(env, "db", "upgrade")
    flask(env, "seed", "demo")
    flask(env, "index", "rebuild", "--no-suggestions")
    port = free_port()
    server = subprocess.Popen([str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
                               "--threads", "4", "app:app"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    yield env, base
    server.terminate()
    server.wait(timeout=10)


def test_searches_during_a_rebuild(served):
    env, base = served
    url = base + "/startups/?describe=sensors+for+school+streets"
    old = int(urllib.request.urlopen(url, timeout=10).headers["X-Index-Version"])
    errors, versions = [], []
    stop = threading.Event()

    def search():
        while not stop.is_set() and len(versions) < 1000:
            try:
                response = urllib.request.urlopen(url, timeout=30)
                versions.append(int(response.headers["X-Index-Version"]))
            except urllib.error.HTTPError as exc:
                errors.append(exc.code)

    threads = [threading.Thread(target=search) for _ in range(20)]
    for thread in threads:
        thread.start()
    # A new engine means every text is encoded again, while the workers keep answering.
    env2 = {**env, "PROEFTUIN_EMBEDDING_MODEL": "hashing-test"}
    subprocess.run([str(BIN / "python"), "-c",
                    "from proeftuin import create_app\n"
                    "from proeftuin.extensions import db\n"
                    "from proeftuin.models import StartupProfile\n"
                    "from proeftuin.services import matching\n"
                    "app = create_app()\n"
                    "with app.app_context():\n"
                    "    for p in db.session.scalars(db.select(StartupProfile)):\n"
                    "        p.capabilities += ' Updated.'\n"
                    "    db.session.commit()\n"], cwd=ROOT, env=env2, check=True, timeout=120)
    flask(env2, "index", "rebuild", "--no-suggestions")
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    new = int(flask(env, "index", "status").split("version")[1].split()[0])
    assert errors == []
    assert versions and all(old <= v <= new for v in versions)
    assert new > old
    # Within a few seconds every worker answers at the new version.
    seen = {int(urllib.request.urlopen(url, timeout=10).headers["X-Index-Version"]) for _ in range(20)}
    assert seen == {new}
    status = flask(env, "index", "status")
    assert "profile   60 indexed, 0 stale" in status
