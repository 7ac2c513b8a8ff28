"""Fixtures: an app per test on SQLite in memory (or TEST_DATABASE_URL), clients, builders."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest
import sqlalchemy as sa

from proeftuin import create_app
from proeftuin.config import TestingConfig
from proeftuin.enums import (
    ApplicationStatus,
    ChallengeStatus,
    Language,
    Maturity,
    OrgKind,
    OrgRole,
    ProcurementRoute,
    Region,
    Role,
    Theme,
)
from proeftuin.extensions import db
from proeftuin.models import (
    Application,
    Challenge,
    ChallengeTheme,
    Organisation,
    ProfileTheme,
    StartupProfile,
    User,
)
from proeftuin.services import seeding
from proeftuin.services.passwords import hash_password

PASSWORD = "a long enough test passphrase"
USING_POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))


def reset_database() -> None:
    """Drop everything (tables of earlier runs and alembic's version table included)."""
    db.drop_all()
    with db.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    db.create_all()


@pytest.fixture
def make_app(tmp_path, monkeypatch):
    """Build an app with extra config; the database is fresh and holds the municipalities."""
    monkeypatch.setenv("PROEFTUIN_INSTANCE_PATH", str(tmp_path / "instance"))
    apps = []

    def factory(reset: bool = True, **overrides):
        config = type("TestConfig", (TestingConfig,), {
            "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
            **overrides,
        })
        app = create_app(config)
        if reset:
            with app.app_context():
                reset_database()
                seeding.load_municipalities()
        apps.append(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            db.session.remove()
            if USING_POSTGRES:
                db.drop_all()
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def login(client, email: str, password: str = PASSWORD, follow: bool = False):
    return client.post(
        "/auth/login", data={"email": email, "password": password}, follow_redirects=follow
    )


def outbox_messages(app) -> list[str]:
    folder = os.path.join(app.config["MAIL_OUTBOX_DIR"])
    if not os.path.isdir(folder):
        return []
    return [
        open(os.path.join(folder, name), encoding="utf-8").read()
        for name in sorted(os.listdir(folder))
        if name.endswith(".eml")
    ]


def link_in(message: str, path_prefix: str) -> str:
    """The first local path in a mail body that starts with `path_prefix`."""
    unfolded = message.replace("=\n", "")
    match = re.search(r"https?://[^/\s]+(" + re.escape(path_prefix) + r"[^\s]*)", unfolded)
    assert match, f"no link {path_prefix} in mail"
    return match.group(1)


# ---- builders ------------------------------------------------------------------------------

def make_org(kind: OrgKind, name: str, nis: str | None = None, region: Region = Region.OOST_VLAANDEREN,
             verified: bool = True):
    """An organisation, verified by the support point unless `verified=False`."""
    org = Organisation(kind=kind, name=name, slug=re.sub(r"[^a-z0-9]+", "-", name.lower()),
                       region=region, municipality_nis=nis,
                       verified_at=datetime.now(UTC) if verified else None)
    db.session.add(org)
    db.session.flush()
    return org


def make_user(email: str, role: Role, org: Organisation | None = None, org_role: OrgRole | None = None) -> User:
    """A user; a municipality or start-up user of an organisation is its admin unless `org_role` says otherwise."""
    if org_role is None and org is not None and role in (Role.MUNICIPALITY, Role.STARTUP):
        org_role = OrgRole.ADMIN
    user = User(email=email, name=email.split("@")[0], role=role, organisation=org, org_role=org_role,
                password_hash=hash_password(PASSWORD))
    db.session.add(user)
    db.session.flush()
    return user


def make_challenge(org: Organisation, title: str, status=ChallengeStatus.PUBLISHED, *,
                   themes=(Theme.MOBILITY,), language=Language.NL, deadline_days: int = 30,
                   problem: str | None = None) -> Challenge:
    challenge = Challenge(
        organisation_id=org.id, title=title, summary=f"Summary of {title}",
        problem=problem or f"The problem of {title}, described at length for the test.",
        desired_outcome="A measurable improvement.", language=language,
        procurement_route=ProcurementRoute.UNDECIDED, status=status,
        deadline=date.today() + timedelta(days=deadline_days),
        theme_rows=[ChallengeTheme(theme=t) for t in themes],
    )
    db.session.add(challenge)
    db.session.flush()
    return challenge


def make_profile(org: Organisation, tagline: str, capabilities: str, *, themes=(Theme.MOBILITY,),
                 language=Language.EN) -> StartupProfile:
    profile = StartupProfile(
        organisation_id=org.id, tagline=tagline, capabilities=capabilities,
        maturity=Maturity.PILOT_READY, language=language,
        theme_rows=[ProfileTheme(theme=t) for t in themes],
    )
    db.session.add(profile)
    db.session.flush()
    return profile


@dataclass
class World:
    """Two organisations of each kind, staff, and A's objects, each with a secret marker."""

    ids: dict[str, int] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    markers: dict[str, str] = field(default_factory=dict)
    slugs: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def world(app) -> World:
    w = World()
    with app.app_context():
        muni_a = make_org(OrgKind.MUNICIPALITY, "Gent", "44021")
        muni_b = make_org(OrgKind.MUNICIPALITY, "Leuven", "24062", Region.VLAAMS_BRABANT)
        su_a = make_org(OrgKind.STARTUP, "Startup A", region=Region.ANTWERPEN)
        su_b = make_org(OrgKind.STARTUP, "Startup B", region=Region.BRUSSELS)
        staff = make_org(OrgKind.FACILITATOR, "Steunpunt")
        for key, role, org in [
            ("muniA", Role.MUNICIPALITY, muni_a), ("muniB", Role.MUNICIPALITY, muni_b),
            ("suA", Role.STARTUP, su_a), ("suB", Role.STARTUP, su_b),
            ("facilitator", Role.FACILITATOR, staff), ("admin", Role.ADMIN, None),
        ]:
            w.emails[key] = f"{key.lower()}@example.org"
            w.ids[key] = make_user(w.emails[key], role, org).id
        w.markers = {k: f"SECRET-{k}-MARKER" for k in ("draft", "published", "profile", "application")}
        draft = make_challenge(muni_a, "Draft " + w.markers["draft"], ChallengeStatus.DRAFT)
        published = make_challenge(muni_a, "Open challenge of Gent")
        make_challenge(muni_b, "Open challenge of Leuven")
        profile = make_profile(su_a, "Sensors for school streets", "We count traffic. " + w.markers["profile"])
        profile_b = make_profile(su_b, "Another start-up", "Something else entirely, described here.")
        application = Application(challenge_id=published.id, organisation_id=su_a.id,
                                  proposal="Our proposal " + w.markers["application"] + " in detail.",
                                  status=ApplicationStatus.SUBMITTED)
        db.session.add(application)
        db.session.commit()
        w.ids.update(draft=draft.id, published=published.id, profile=profile.id, profile_b=profile_b.id,
                     application=application.id, org_suA=su_a.id, org_suB=su_b.id,
                     org_muniA=muni_a.id)
        w.slugs.update(suA=su_a.slug, suB=su_b.slug)
    return w


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogs():
    """Compile the translation catalogs when a .po is newer than its .mo (make does this too)."""
    from pathlib import Path

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po_path in Path(__file__).resolve().parent.parent.glob("proeftuin/translations/*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
            with open(po_path, "rb") as po_file:
                catalog = read_po(po_file)
            with open(mo_path, "wb") as mo_file:
                write_mo(mo_file, catalog)
