"""Live index under load: two gunicorn web processes, steady searches, one profile edited per second.

Run ``python -m bench.live_index --profiles 20000 --seconds 60`` (``--database-url
postgresql+psycopg://postgres@127.0.0.1/DB`` for an empty PostgreSQL database you created; SQLite in WAL
mode in the temporary instance folder otherwise). It prints one JSON line to stdout (progress on stderr)
and keeps it, per (profiles, database, clients, think), in ``bench/results/live_index.json``.

What runs, as production would:

- One temporary instance folder and one database shared by two gunicorn instances started with the
  repository's ``gunicorn.conf.py`` (one worker of 8 threads each, no preload) on two ports, so each web
  process can be addressed alone. ``SEARCH_RATE_LIMIT`` is raised (every client is 127.0.0.1).
- ``--profiles`` synthetic start-up profiles from ``bench.suggestion_bench.synthetic`` (2,000 topics,
  made-up topic words plus common words, English). Their vectors are that generator's clustered,
  normalised 512-d vectors written in bulk into ``embedding`` under the real engine's key with
  ``content_hash(profile_text(profile))``, so nothing is re-encoded; encoding 100k texts with the real
  model would take about 30 minutes on 2 cores. The FAISS snapshot is written as ``flask index
  rebuild`` does (``matching.write_snapshots``) before the web processes start.
- Queries and the writer's edits use the real bundled model (``--engine``, default ``use-multilingual-v3``;
  ``use-multilingual-v3+e5-small`` encodes each query with both). The synthetic
  vectors are not in the model's space, so past ``MATCHING_EXACT_LIMIT`` the FAISS candidates of a
  real query favour the model-encoded (edited) profiles: this measures latency and propagation, not
  retrieval quality.
- Search load: ``--clients`` threads (split over the two processes) each ``GET /startups/?describe=...``
  (the "describe what you need" search, which ranks start-up profiles; anyone may use it) with 6 fresh
  topic words, ``Accept-Language: en``, then wait ``--think`` seconds. ``read_*`` are client-side
  latencies of these requests; ``server_read_*`` are gunicorn's own request times (access log ``%(D)s``).
- Writer (this process, app context): once a second, one random background profile gets new
  capabilities (another topic's words plus a unique nonce word), commit, then ``matching.sync_object``
  (encode with the real model, store, bump ``index_state.version``, commit), as the background worker's
  ``profile.changed`` effect does. From that commit, one poller per web process searches
  ``nonce + 3 of the new words`` every ``--poll-interval`` s until the profile is in the results with the
  nonce among its shared key terms (so the process ranks the new text, not the old one).
  ``visible_s`` of an edit is the latest of the two processes (the response's arrival).
- Errors: any status other than 200, a connection failure or timeout, or the "matching unavailable"
  notice (the page degrades to a 200 with that notice when the engine raises).
- Memory: ``/proc/<pid>/smaps_rollup`` of each gunicorn worker after the run (masters apart):
  ``pss_mb`` counts pages shared between processes once. ``second_process_extra_pct`` =
  100 x (pss(web1) + pss(web2) - rss(web1)) / rss(web1): what the two processes take together beyond one
  process's whole footprint; ``second_process_private_pct`` = 100 x uss(web2) / rss(web1) says the same
  from private pages.
- ``cpu_during_run``: cores used by this benchmark's processes (this one and the four gunicorn
  processes) and by everything else on the machine (other users, and the PostgreSQL server when
  ``--database-url`` is given), to tell a saturated run from a crowded machine.
- ``--web-env NAME=VALUE`` (repeatable) sets environment for the web processes only, for experiments.
- If a web process cannot answer its first search (its index does not load), the JSON line has
  ``"failed"`` and the exceptions the processes logged, and no load runs.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results" / "live_index.json"
ACCESS_FORMAT = '%(t)s "%(r)s" %(s)s %(D)s'
TARGETS = {"read_p99_ms": 50, "read_max_ms": 250, "visible_p99_s": 5, "errors": 0, "second_process_extra_pct": 30}


def log(message: str) -> None:
    print(f"[live_index {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


USE_ENGINE = "use-multilingual-v3"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pct(values: list[float], q: float, digits: int = 1) -> float | None:
    return round(float(np.percentile(values, q)), digits) if values else None


# ---- set-up ------------------------------------------------------------------------------------

def server_env(instance: Path, database_url: str | None, engine: str = USE_ENGINE) -> dict[str, str]:
    env = {**os.environ, "PROEFTUIN_INSTANCE_PATH": str(instance), "PROEFTUIN_ENV": "development",
           "PROEFTUIN_EMBEDDING_MODEL": engine, "SEARCH_RATE_LIMIT": "1000000 per minute",
           "LOG_LEVEL": "WARNING", "FLASK_APP": "app.py", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    for name in ("DATABASE_URL", "TEST_DATABASE_URL", "WEB_CONCURRENCY", "PROEFTUIN_WEB_PROCESSES",
                 "GUNICORN_CMD_ARGS", "INDEX_PATH", "MATCHING_EXACT_LIMIT", "MATCHING_CANDIDATES"):
        env.pop(name, None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def topic_words(topic: int) -> list[str]:
    return [f"t{topic}x{j}" for j in range(40)]  # bench.suggestion_bench.synthetic's vocabulary


COMMON = [f"w{i}" for i in range(300)]


def load_profiles(app, n: int, rng: np.random.Generator) -> dict:
    """Organisations, profiles, themes and embedding rows in bulk; the watermark at n."""
    import sqlalchemy as sa

    from bench.suggestion_bench import TOPICS, synthetic
    from embeddings.text import content_hash
    from proeftuin.enums import Language, Maturity, OrgKind, Region, Theme
    from proeftuin.extensions import db
    from proeftuin.models import Embedding, IndexState, Organisation, ProfileTheme, StartupProfile
    from proeftuin.services import matching
    from proeftuin.services.texts import profile_text

    timings = {}
    started = time.perf_counter()
    with app.app_context():
        dim = matching.encoder().dim
    docs, vectors, topics = synthetic(n, rng, dim=dim)
    timings["synthetic_s"] = round(time.perf_counter() - started, 1)
    regions, maturities, themes = list(Region), list(Maturity), list(Theme)
    with app.app_context():
        key = matching.engine_key()
        started = time.perf_counter()
        chunk = 5000
        for start in range(0, n, chunk):
            orgs, profiles, theme_rows, embeddings = [], [], [], []
            for i in range(start, min(start + chunk, n)):
                pid = i + 1
                words = docs[i].text.split()
                name, tagline, capabilities = f"Synth start-up {pid}", " ".join(words[:6]), " ".join(words[6:])
                orgs.append({"id": pid, "kind": OrgKind.STARTUP, "name": name, "slug": f"synth-{pid}",
                             "region": regions[i % len(regions)], "verified_at": None, "is_demo": True})
                profiles.append({"id": pid, "organisation_id": pid, "tagline": tagline, "capabilities": capabilities,
                                 "references": None, "maturity": maturities[i % len(maturities)],
                                 "language": Language.EN, "languages": ["en"], "regions_served": [],
                                 "is_demo": True})
                theme_rows.append({"profile_id": pid, "theme": themes[int(topics[i]) % len(themes)]})
                text = profile_text(_Profile(name, tagline, capabilities))
                embeddings.append({"object_type": "profile", "object_id": pid, "engine_id": key,
                                   "content_hash": content_hash(text), "dim": vectors.shape[1], "n_passages": 1,
                                   "vectors": np.ascontiguousarray(vectors[i][None, :], dtype=np.float32).tobytes(),
                                   "seq": pid})
            db.session.execute(sa.insert(Organisation), orgs)
            db.session.execute(sa.insert(StartupProfile), profiles)
            db.session.execute(sa.insert(ProfileTheme), theme_rows)
            db.session.execute(sa.insert(Embedding), embeddings)
            db.session.commit()
        db.session.add(IndexState(engine_id=key, version=n))
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            for table in ("organisation", "startup_profile"):  # explicit ids: move the sequences past them
                db.session.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {n})"))
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
        timings["insert_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        matching.write_snapshots(matching.encoder(), n)  # what `flask index rebuild` ends with
        timings["snapshot_s"] = round(time.perf_counter() - started, 1)
    assert TOPICS == 2000
    return {"timings": timings, "topics": topics}


class _Profile:
    """Enough of a StartupProfile for `profile_text`."""

    def __init__(self, name: str, tagline: str, capabilities: str) -> None:
        self.organisation = type("Org", (), {"name": name})()
        self.tagline, self.capabilities, self.references = tagline, capabilities, None


# ---- web processes --------------------------------------------------------------------------------

class Web:
    def __init__(self, name: str, env: dict, instance: Path) -> None:
        self.name, self.port = name, free_port()
        self.log_path = instance.parent / f"{name}.log"
        self._log = open(self.log_path, "wb")
        self.master = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}",
             "--access-logformat", ACCESS_FORMAT, "app:app"],
            cwd=ROOT, env=env, stdout=self._log, stderr=self._log)
        self.worker_pid: int | None = None

    def wait_healthy(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                status, _, _ = get(self.port, "/healthz", timeout=5)
                if status == 200:
                    break
            except OSError:
                pass
            if self.master.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start: {self.log_path.read_text()[-3000:]}")
            time.sleep(0.3)
        children = Path(f"/proc/{self.master.pid}/task/{self.master.pid}/children").read_text().split()
        if len(children) != 1:
            raise RuntimeError(f"{self.name}: expected one gunicorn worker, found {children}")
        self.worker_pid = int(children[0])

    def current_worker_pid(self) -> int:
        """The gunicorn worker's pid now (another one than at start-up if it died and was restarted)."""
        deadline = time.monotonic() + 120
        while True:
            children = Path(f"/proc/{self.master.pid}/task/{self.master.pid}/children").read_text().split()
            if len(children) == 1:
                return int(children[0])
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name}: expected one gunicorn worker, found {children}")
            time.sleep(0.5)

    def stop(self) -> None:
        if self.master.poll() is None:
            self.master.send_signal(signal.SIGTERM)
            try:
                self.master.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.master.kill()
                self.master.wait(timeout=10)
        self._log.close()

    def error_lines(self, limit: int = 3) -> list[str]:
        """The exceptions the web process logged (the first 300 characters of each message)."""
        found = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if '"level": "ERROR"' not in line and not re.match(r"^[A-Za-z_.]+(Error|Exception): ", line):
                continue
            match = re.search(r"[A-Za-z_.]*(?:Error|Exception)\)? [^\\]{0,300}", line.split('"exc_info"', 1)[-1])
            found.append(match.group(0) if match else line[:300])
        return found[-limit:]

    def server_times_ms(self, since: float) -> list[float]:
        """gunicorn's request time of the load searches (no nonce) logged after `since` (epoch)."""
        out = []
        pattern = re.compile(r'^\[(?P<t>[^\]]+)\] "GET /startups/\?describe=(?P<q>\S+) HTTP/1\.[01]" 200 (?P<d>\d+)$')
        for line in self.log_path.read_text(errors="replace").splitlines():
            match = pattern.match(line)
            if not match or "zq" in match["q"] or "warm" in match["q"]:
                continue
            stamp = time.mktime(time.strptime(match["t"].split()[0], "%d/%b/%Y:%H:%M:%S"))
            if stamp >= since:
                out.append(int(match["d"]) / 1000)
        return out


def get(port: int, path: str, timeout: float = 30) -> tuple[int, str, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Accept-Language": "en", "Connection": "close"})
        response = conn.getresponse()
        body = response.read().decode("utf-8", errors="replace")
        return response.status, body, dict(response.getheaders())
    finally:
        conn.close()


def search_path(query: str) -> str:
    return "/startups/?" + urllib.parse.urlencode({"describe": query})


def unavailable(body: str) -> bool:
    return 'class="flash flash-error"' in body


def memory(pid: int) -> dict:
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        values[name] = int(value.split()[0]) / 1024  # kB -> MB
    return {"rss_mb": round(values["Rss"]), "pss_mb": round(values["Pss"]),
            "uss_mb": round(values.get("Private_Clean", 0) + values.get("Private_Dirty", 0)),
            "swap_mb": round(values.get("Swap", 0))}


def busy_jiffies() -> int:
    """Busy CPU time of the whole machine (every core), in clock ticks."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return user + nice + system + irq + softirq + steal


def process_jiffies(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


# ---- the run ---------------------------------------------------------------------------------------

class Run:
    def __init__(self, webs: list[Web], topics: np.ndarray, args: argparse.Namespace) -> None:
        self.webs, self.topics, self.args = webs, topics, args
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.reads: list[dict] = []
        self.errors: list[str] = []
        self.edits: list[dict] = []
        self.polls = 0
        self.rng = random.Random(args.seed)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors.append(what)

    def client(self, web: Web, seed: int) -> None:
        rng = random.Random(seed)
        last_version = None
        while not self.stop.is_set():
            topic = rng.randrange(2000)
            query = " ".join(rng.sample(topic_words(topic), 4) + rng.sample(COMMON, 2))
            started = time.perf_counter()
            try:
                status, body, headers = get(web.port, search_path(query))
            except OSError as exc:
                self.error(f"{web.name}: {type(exc).__name__}")
                self.stop.wait(self.args.think)
                continue
            elapsed = 1000 * (time.perf_counter() - started)
            version = headers.get("X-Index-Version")
            if status != 200 or unavailable(body):
                self.error(f"{web.name}: status {status}" + (" unavailable" if status == 200 else ""))
            else:
                with self.lock:
                    self.reads.append({"web": web.name, "ms": elapsed, "moved": version != last_version
                                       and last_version is not None})
            last_version = version
            self.stop.wait(self.args.think)

    def poll(self, web: Web, edit: dict) -> None:
        path = search_path(edit["query"])
        slug = f'/startups/{edit["slug"]}"'
        mark = f"<mark>{edit['nonce']}</mark>"
        deadline = edit["committed"] + self.args.visible_timeout
        while time.monotonic() < deadline:
            try:
                status, body, _ = get(web.port, path)
            except OSError as exc:
                self.error(f"{web.name} poll: {type(exc).__name__}")
                time.sleep(self.args.poll_interval)
                continue
            finally:
                with self.lock:
                    self.polls += 1
            arrived = time.monotonic()
            if status != 200 or unavailable(body):
                self.error(f"{web.name} poll: status {status}" + (" unavailable" if status == 200 else ""))
            elif slug in body and mark in body:
                edit["visible"][web.name] = arrived - edit["committed"]
                return
            time.sleep(self.args.poll_interval)
        edit["visible"][web.name] = None

    def writer(self, app) -> None:
        from proeftuin.extensions import db
        from proeftuin.models import StartupProfile
        from proeftuin.services import matching

        n = len(self.topics)
        chosen: set[int] = set()
        next_at = time.monotonic()
        with app.app_context():
            matching.encoder().encode(["warm up"])
            while not self.stop.is_set():
                self.stop.wait(max(0.0, next_at - time.monotonic()))
                if self.stop.is_set():
                    break
                next_at += 1.0
                pid = self.rng.randrange(1, n + 1)
                while pid in chosen:
                    pid = self.rng.randrange(1, n + 1)
                chosen.add(pid)
                topic = (int(self.topics[pid - 1]) + 1 + self.rng.randrange(1999)) % 2000  # another topic
                words = self.rng.sample(topic_words(topic), 12) + self.rng.sample(COMMON, 8)
                nonce = f"zq{self.rng.randrange(16**6):06x}{len(self.edits):05d}"
                started = time.perf_counter()
                profile = db.session.get(StartupProfile, pid)
                profile.capabilities = " ".join(words) + " " + nonce
                db.session.commit()
                text_committed = time.perf_counter()
                changed = matching.sync_object(profile)  # encode, store, bump the watermark, commit
                committed = time.monotonic()
                edit = {"pid": pid, "slug": f"synth-{pid}", "nonce": nonce, "committed": committed,
                        "query": " ".join([nonce, *words[:3]]), "changed": changed,
                        "text_commit_ms": 1000 * (text_committed - started),
                        "sync_ms": 1000 * (time.perf_counter() - text_committed), "visible": {}}
                db.session.remove()
                self.edits.append(edit)
                edit["pollers"] = [threading.Thread(target=self.poll, args=(web, edit), daemon=True)
                                   for web in self.webs]
                for thread in edit["pollers"]:
                    thread.start()

    def go(self, app) -> None:
        clients = [threading.Thread(target=self.client, args=(self.webs[i % len(self.webs)], 1000 + i), daemon=True)
                   for i in range(self.args.clients)]
        writer = threading.Thread(target=self.writer, args=(app,), daemon=True)
        for thread in clients:
            thread.start()
        time.sleep(2)  # the load is steady before the first edit
        writer.start()
        time.sleep(self.args.seconds)
        self.stop.set()
        writer.join(timeout=60)
        for thread in clients:
            thread.join(timeout=60)
        for edit in self.edits:
            for thread in edit["pollers"]:
                thread.join(timeout=self.args.visible_timeout + 30)


def diagnostics(app, samples: int = 7) -> dict:
    """Per-request work measured in this process on the same database: what a search pays before ranking."""
    from proeftuin.extensions import db
    from proeftuin.models import StartupProfile
    from proeftuin.services import matching
    from proeftuin.services import profiles as profile_service

    out = {}
    with app.app_context():
        stmt = profile_service.browse_query(profile_service.ProfileFilters()).with_only_columns(StartupProfile.id)
        timings = []
        for _ in range(samples):
            started = time.perf_counter()
            ids = set(db.session.scalars(stmt))
            timings.append(1000 * (time.perf_counter() - started))
        out["allowed_ids_query_ms_p50"] = pct(timings, 50)
        out["allowed_ids"] = len(ids)
        timings = []
        key = matching.engine_key()
        for _ in range(samples):
            started = time.perf_counter()
            matching.current_version(key)
            timings.append(1000 * (time.perf_counter() - started))
        out["watermark_query_ms_p50"] = pct(timings, 50, 2)
        encoder = matching.encoder()
        encoder.encode(["warm up"])
        timings = []
        rng = random.Random(3)
        for _ in range(samples):
            query = " ".join(rng.sample(topic_words(rng.randrange(2000)), 4) + rng.sample(COMMON, 2))
            started = time.perf_counter()
            encoder.encode([query], kind="query")
            timings.append(1000 * (time.perf_counter() - started))
        out["encode_query_ms_p50"] = pct(timings, 50)
    return out


def save(row: dict) -> None:
    runs = []
    if RESULTS.exists():
        try:
            runs = json.loads(RESULTS.read_text()).get("runs", [])
        except (ValueError, AttributeError):
            runs = []
    def key(r: dict) -> tuple:
        return (r.get("profiles"), r.get("database"), r.get("clients"), r.get("think_s"), r.get("web_env") or [],
                r.get("engine", USE_ENGINE))

    runs = [r for r in runs if key(r) != key(row)]
    runs.append(row)
    runs.sort(key=lambda r: (r.get("database", ""), r.get("profiles", 0)))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"benchmark": "bench.live_index", "runs": runs}, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=20000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--database-url", default=None, help="an empty PostgreSQL database; SQLite (WAL) if unset")
    parser.add_argument("--clients", type=int, default=4, help="search threads, split over the two processes")
    parser.add_argument("--think", type=float, default=0.2, help="seconds each search thread waits between searches")
    parser.add_argument("--poll-interval", type=float, default=0.1)
    parser.add_argument("--visible-timeout", type=float, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--engine", default=USE_ENGINE, help="PROEFTUIN_EMBEDDING_MODEL of the web processes")
    parser.add_argument("--web-env", action="append", default=[], metavar="NAME=VALUE",
                        help="extra environment for the two web processes only (an experiment, e.g. "
                             "OPENBLAS_NUM_THREADS=1); recorded in the JSON")
    parser.add_argument("--keep", action="store_true", help="keep the temporary instance folder")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/live_index.json")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="live_index_"))
    instance = workdir / "instance"
    instance.mkdir()
    env = server_env(instance, args.database_url, args.engine)
    # Config classes read the environment at import: set it before importing the platform.
    os.environ.clear()
    os.environ.update(env)
    started_all = time.perf_counter()
    load_start = os.getloadavg()[0]
    webs: list[Web] = []
    try:
        from proeftuin import create_app

        app = create_app()
        with app.app_context():
            from sqlalchemy import inspect

            from proeftuin.extensions import db

            if inspect(db.engine).get_table_names():
                raise SystemExit("the database is not empty: give an empty one (createdb NAME)")
            database = db.engine.dialect.name + (" (WAL, instance folder)" if db.engine.dialect.name == "sqlite"
                                                 else "")
            db.session.remove()
            db.engine.dispose()
        log(f"workdir {workdir}; migrating {database}")
        started = time.perf_counter()
        subprocess.run([str(BIN / "flask"), "db", "upgrade"], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        setup = {"migrate_s": round(time.perf_counter() - started, 1)}
        log(f"writing {args.profiles} profiles and their vectors")
        loaded = load_profiles(app, args.profiles, np.random.default_rng(args.seed))
        setup.update(loaded["timings"])
        log(f"set-up so far {setup}; diagnostics")
        diag = diagnostics(app)
        log(f"diagnostics {diag}; starting two gunicorn instances")
        web_env = {**env, **dict(item.split("=", 1) for item in args.web_env)}
        webs = [Web("web1", web_env, instance), Web("web2", web_env, instance)]
        for web in webs:
            web.wait_healthy()
        # The first search of each process loads its index (rows, texts, ranker, FAISS snapshot) and the model.
        loads: dict[str, float] = {}

        def first(web: Web) -> None:
            started = time.perf_counter()
            try:
                status, body, _ = get(web.port, search_path("warm up t1x1 t1x2"), timeout=3600)
            except OSError as exc:
                failures[web.name] = f"{type(exc).__name__}: {exc}"
                return
            if status != 200 or unavailable(body):
                failures[web.name] = f"status {status}" + (" (matching unavailable)" if status == 200 else "")
            loads[web.name] = round(time.perf_counter() - started, 1)

        failures: dict[str, str] = {}
        threads = [threading.Thread(target=first, args=(web,)) for web in webs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            row = {"profiles": args.profiles, "database": database, "clients": args.clients, "think_s": args.think,
                   "failed": "first search",
                   "failures": failures, "first_search_s": loads, "setup": setup, "diagnostics": diag,
                   "web_log_errors": {web.name: web.error_lines() for web in webs}}
            print(json.dumps(row), flush=True)
            if not args.no_save:
                save(row)
            return
        setup["first_search_s"] = loads  # both processes load at the same time, as after a deploy
        idle_memory = {web.name: memory(web.worker_pid) for web in webs}
        setup["total_s"] = round(time.perf_counter() - started_all, 1)
        log(f"set-up {setup}; memory {idle_memory}; load for {args.seconds} s")

        run = Run(webs, loaded["topics"], args)
        ours = [os.getpid()] + [p for web in webs for p in (web.master.pid, web.worker_pid)]
        cpu_start, ours_start, mono_start = busy_jiffies(), process_jiffies(ours), time.monotonic()
        wall_start = time.time()
        run.go(app)
        ticks = os.sysconf("SC_CLK_TCK") * (time.monotonic() - mono_start)
        cpu = {"ours_cores": round((process_jiffies(ours) - ours_start) / ticks, 2),
               "other_processes_cores": round((busy_jiffies() - cpu_start - process_jiffies(ours) + ours_start)
                                              / ticks, 2)}
        for web in webs:  # a worker that died (gunicorn restarts it) is an error, never a silent restart
            now = web.current_worker_pid()
            if now != web.worker_pid:
                run.error(f"{web.name}: worker {web.worker_pid} died, restarted as {now}")
                web.worker_pid = now
        final_memory = {web.name: memory(web.worker_pid) for web in webs}
        masters = {web.name: memory(web.master.pid)["pss_mb"] for web in webs}

        reads = [r["ms"] for r in run.reads]
        moved = [r["ms"] for r in run.reads if r["moved"]]
        visible_all = [e["visible"].get(w.name) for e in run.edits for w in webs]
        complete = [e for e in run.edits if all(e["visible"].get(w.name) is not None for w in webs)]
        visible = [max(e["visible"][w.name] for w in webs) for e in complete]
        server = [t for web in webs for t in web.server_times_ms(wall_start)]
        a, b = final_memory["web1"], final_memory["web2"]
        row = {
            "profiles": args.profiles,
            "database": database,
            "seconds": args.seconds,
            "engine": args.engine,
            "encoder": {"queries": f"{args.engine} (real model, in each web process)",
                        "writer_edits": f"{args.engine} (real model, matching.sync_object)",
                        "background_profiles": "synthetic clustered vectors of the engine's size written in bulk "
                                               "(bench.suggestion_bench.synthetic), not model-encoded"},
            "web": "2 gunicorn instances (gunicorn.conf.py: 1 worker x 8 gthreads each), one database, "
                   "one instance folder",
            "path": "FAISS candidates + fusion" if args.profiles > 20000 else "exact fusion over all",
            "clients": args.clients, "think_s": args.think, "web_env": args.web_env,
            "reads": len(reads),
            "reads_per_s": round(len(reads) / args.seconds, 1),
            "read_p50_ms": pct(reads, 50), "read_p99_ms": pct(reads, 99),
            "read_max_ms": round(max(reads), 1) if reads else None,
            "server_read_p50_ms": pct(server, 50), "server_read_p99_ms": pct(server, 99),
            "server_read_max_ms": round(max(server), 1) if server else None,
            "read_after_watermark_moved_p50_ms": pct(moved, 50), "read_after_watermark_moved_max_ms":
                round(max(moved), 1) if moved else None,
            "edits": len(run.edits),
            "writer_sync_p50_ms": pct([e["sync_ms"] for e in run.edits], 50),
            "visible_p50_s": pct(visible, 50, 3), "visible_p99_s": pct(visible, 99, 3),
            "visible_max_s": round(max(visible), 3) if visible else None,
            "visible_per_process_p50_s": {w.name: pct([e["visible"][w.name] for e in complete], 50, 3)
                                          for w in webs},
            "not_visible": sum(1 for v in visible_all if v is None),
            "polls": run.polls,
            "errors": len(run.errors),
            "error_kinds": {k: run.errors.count(k) for k in sorted(set(run.errors))},
            "pss_mb": {name: m["pss_mb"] for name, m in final_memory.items()},
            "rss_mb": {name: m["rss_mb"] for name, m in final_memory.items()},
            "uss_mb": {name: m["uss_mb"] for name, m in final_memory.items()},
            "pss_mb_before_load": {name: m["pss_mb"] for name, m in idle_memory.items()},
            "master_pss_mb": masters,
            "second_process_extra_pct": round(100 * (a["pss_mb"] + b["pss_mb"] - a["rss_mb"]) / a["rss_mb"], 1),
            "second_process_private_pct": round(100 * b["uss_mb"] / a["rss_mb"], 1),
            "setup": setup,
            "diagnostics": diag,
            "cores": len(os.sched_getaffinity(0)),
            "load_average": {"start": round(load_start, 2), "end": round(os.getloadavg()[0], 2)},
            "cpu_during_run": cpu,
        }
        checks = {name: (row[name] is not None and row[name] <= limit) for name, limit in TARGETS.items()}
        checks["visible_p99_s"] = checks["visible_p99_s"] and row["not_visible"] == 0
        row["targets_100k"] = TARGETS
        row["targets_met"] = checks
        print(json.dumps(row), flush=True)
        if not args.no_save:
            save(row)
    finally:
        for web in webs:
            web.stop()
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
