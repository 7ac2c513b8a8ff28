"""Reference data (municipalities) and the demo content, both loadable more than once."""
from __future__ import annotations

import csv
import json
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from proeftuin.enums import (
    PROVINCE_TO_REGION,
    ApplicationStatus,
    ChallengeStatus,
    LabelledEnum,
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
    Municipality,
    Organisation,
    ProfileTheme,
    StartupProfile,
    User,
)
from proeftuin.services.accounts import staff_organisation, unique_slug
from proeftuin.services.passwords import hash_password

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DEMO_PASSWORD = "demo-proeftuin-2026"
DEMO_MUNICIPALITY_NIS = "44021"  # Gent


@dataclass
class DemoLogin:
    role: str
    email: str
    password: str


DEMO_LOGINS = [
    DemoLogin("municipality", "gemeente@demo.proeftuin.be", DEMO_PASSWORD),
    DemoLogin("startup", "startup@demo.proeftuin.be", DEMO_PASSWORD),
    DemoLogin("facilitator", "facilitator@demo.proeftuin.be", DEMO_PASSWORD),
    DemoLogin("admin", "admin@demo.proeftuin.be", DEMO_PASSWORD),
]


def load_municipalities() -> int:
    """Insert or update the 304 municipalities of Flanders and Brussels. Returns the count."""
    existing = {m.nis_code: m for m in db.session.scalars(sa.select(Municipality))}
    count = 0
    for filename in ("municipalities_flanders.csv", "municipalities_brussels.csv"):
        with open(DATA_DIR / filename, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                municipality = existing.get(row["nis_code"]) or Municipality(nis_code=row["nis_code"])
                municipality.name_nl = row["name_nl"]
                municipality.name_fr = row["name_fr"] or None
                municipality.province = row["province"]
                db.session.add(municipality)
                count += 1
    db.session.commit()
    return count


def demo_loaded() -> bool:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Organisation).where(Organisation.is_demo)) > 0


def _municipality_org(nis: str) -> Organisation:
    org = db.session.scalar(sa.select(Organisation).where(Organisation.municipality_nis == nis))
    if org is None:
        municipality = db.session.get(Municipality, nis)
        if municipality is None:
            raise ValueError(f"unknown NIS code in demo data: {nis}")
        org = Organisation(
            kind=OrgKind.MUNICIPALITY,
            name=municipality.name_nl,
            slug=unique_slug(municipality.name_nl),
            region=PROVINCE_TO_REGION[municipality.province],
            municipality_nis=nis,
            verified_at=datetime.now(UTC),
            is_demo=True,
        )
        db.session.add(org)
        db.session.flush()
    return org


DEMO_QUESTIONS = [
    ("ip_and_contracts", "Wie is eigenaar van de gegevens en de software na een pilootproject?",
     "We willen met een start-up een pilootproject van zes maanden opzetten rond slimme schoolstraten. "
     "Wie wordt eigenaar van de verzamelde verkeersgegevens en van de software die tijdens de pilot wordt "
     "aangepast? Wat moeten we in de pilootovereenkomst opnemen over intellectuele eigendom en het "
     "verwijderen van de camera's na afloop?"),
    ("procedures", "Mogen we na een geslaagde pilot rechtstreeks gunnen aan dezelfde start-up?",
     "Als het experiment slaagt, willen we de oplossing in de hele stad uitrollen. Kunnen we de opdracht dan "
     "rechtstreeks aan dezelfde start-up gunnen, of moeten we een nieuwe procedure starten? Welke procedure "
     "had we beter van bij het begin gekozen?"),
]


def _demo_questions(asker: User) -> None:
    """Two open questions of the demo municipality for the expert pool (no notifications)."""
    from proeftuin.models import ExpertQuestion

    for area, title, question in DEMO_QUESTIONS:
        db.session.add(ExpertQuestion(organisation_id=asker.organisation_id, asked_by_id=asker.id, area=area,
                                      title=title, question=question, language=Language.NL))
    db.session.commit()


class SeedDataError(ValueError):
    """The demo data holds values the app does not know; nothing was loaded."""


# The closed vocabularies of the demo files: field -> (enum, whether the field holds a list).
CHALLENGE_ENUM_FIELDS: dict[str, tuple[type[LabelledEnum], bool]] = {
    "language": (Language, False),
    "procurement_route": (ProcurementRoute, False),
    "status": (ChallengeStatus, False),
    "themes": (Theme, True),
}
STARTUP_ENUM_FIELDS: dict[str, tuple[type[LabelledEnum], bool]] = {
    "language": (Language, False),
    "languages": (Language, True),
    "region": (Region, False),
    "regions_served": (Region, True),
    "maturity": (Maturity, False),
    "themes": (Theme, True),
}
REQUIRED_LISTS = {"themes"}


def check_enum_values(items: list[dict], fields: dict[str, tuple[type[LabelledEnum], bool]],
                      source: str) -> list[str]:
    """Every value of the app's closed vocabularies in `items` that the app does not know, as
    "demo_startups.json: boxrelay: languages: unknown value 'de' (known: en, fr, nl)".
    """
    problems = []
    for index, item in enumerate(items):
        name = item.get("key") or item.get("title") or f"item {index + 1}"
        for field_name, (enum, many) in fields.items():
            raw = item.get(field_name)
            if raw is None and (many and field_name not in REQUIRED_LISTS):
                continue
            values = raw if many and isinstance(raw, list) else [raw]
            known = enum.values()
            for value in values:
                if value not in known:
                    problems.append(f"{source}: {name}: {field_name}: unknown value {value!r} "
                                    f"(known: {', '.join(sorted(known))})")
    return problems


def read_demo_data() -> tuple[list[dict], list[dict]]:
    """The demo challenges and start-ups, checked against the app's vocabularies.

    Raises:
        SeedDataError: a value the app does not know (every one is listed).
    """
    challenges_data = json.loads((DATA_DIR / "demo_challenges.json").read_text(encoding="utf-8"))
    startups_data = json.loads((DATA_DIR / "demo_startups.json").read_text(encoding="utf-8"))
    problems = (check_enum_values(challenges_data, CHALLENGE_ENUM_FIELDS, "demo_challenges.json")
                + check_enum_values(startups_data, STARTUP_ENUM_FIELDS, "demo_startups.json"))
    if problems:
        raise SeedDataError("the demo data holds values the app does not know; nothing was loaded:\n  "
                            + "\n  ".join(problems))
    return challenges_data, startups_data


def load_demo(today: date | None = None) -> dict[str, int]:
    """Load the demo organisations, challenges, profiles and log-ins (skipped if present).

    Raises:
        SeedDataError: the demo files hold a value the app does not know (nothing is loaded).
    """
    if demo_loaded():
        return {}
    challenges_data, startups_data = read_demo_data()
    today = today or date.today()
    now = datetime.now(UTC)
    password_hash = hash_password(DEMO_PASSWORD)

    challenges: list[Challenge] = []
    for index, item in enumerate(challenges_data):
        org = _municipality_org(item["municipality_nis"])
        status = ChallengeStatus(item["status"])
        challenge = Challenge(
            organisation_id=org.id,
            title=item["title"],
            summary=item["summary"],
            problem=item["problem"],
            desired_outcome=item["desired_outcome"],
            constraints=item.get("constraints"),
            budget_min=item.get("budget_min"),
            budget_max=item.get("budget_max"),
            deadline=today + timedelta(days=item["deadline_days"]),
            language=Language(item["language"]),
            procurement_route=ProcurementRoute(item["procurement_route"]),
            status=status,
            published_at=None if status == ChallengeStatus.DRAFT else now - timedelta(days=3 + index * 2),
            closed_at=now - timedelta(days=2) if status == ChallengeStatus.CLOSED else None,
            is_demo=True,
            theme_rows=[ChallengeTheme(theme=Theme(t)) for t in item["themes"]],
        )
        db.session.add(challenge)
        challenges.append(challenge)

    profiles: list[StartupProfile] = []
    for item in startups_data:
        org = Organisation(
            kind=OrgKind.STARTUP,
            name=item["name"],
            slug=unique_slug(item["name"]),
            region=Region(item["region"]),
            website=item["website"],
            verified_at=now,
            is_demo=True,
        )
        db.session.add(org)
        db.session.flush()
        profile = StartupProfile(
            organisation_id=org.id,
            tagline=item["tagline"],
            capabilities=item["capabilities"],
            references=item.get("references"),
            maturity=Maturity(item["maturity"]),
            trl=item.get("trl"),
            team_size=item.get("team_size"),
            language=Language(item["language"]),
            languages=item.get("languages", []),
            regions_served=item.get("regions_served", []),
            is_demo=True,
            theme_rows=[ProfileTheme(theme=Theme(t)) for t in item["themes"]],
        )
        db.session.add(profile)
        profiles.append(profile)
    db.session.flush()

    municipality_org = _municipality_org(DEMO_MUNICIPALITY_NIS)
    startup_org = profiles[0].organisation
    support_point = staff_organisation()
    users = [
        User(email=DEMO_LOGINS[0].email, name="Demo Gemeente Gent", role=Role.MUNICIPALITY,
             organisation=municipality_org, org_role=OrgRole.ADMIN),
        User(email=DEMO_LOGINS[1].email, name=f"Demo {startup_org.name}", role=Role.STARTUP,
             organisation=startup_org, org_role=OrgRole.ADMIN),
        User(email=DEMO_LOGINS[2].email, name="Demo Facilitator", role=Role.FACILITATOR,
             organisation=support_point),
        User(email=DEMO_LOGINS[3].email, name="Demo Admin", role=Role.ADMIN),
    ]
    for user in users:
        user.password_hash = password_hash
        user.is_demo = True
        db.session.add(user)

    # A few applications so the municipality has something to review.
    open_gent = [
        c for c in challenges
        if c.organisation_id == municipality_org.id and c.status == ChallengeStatus.PUBLISHED
        and c.deadline >= today
    ]
    applications = 0
    for challenge, profile in zip(open_gent, profiles[1:4], strict=False):
        db.session.add(
            Application(
                challenge_id=challenge.id,
                organisation_id=profile.organisation_id,
                proposal=(
                    f"{profile.organisation.name}: {profile.tagline}. "
                    "We propose a three-month pilot in one district, with weekly reporting "
                    "and a shared evaluation at the end. (Demo application.)"
                ),
                status=ApplicationStatus.SUBMITTED,
            )
        )
        applications += 1
    db.session.commit()
    from proeftuin.services.experts import load_demo_experts

    load_demo_experts()
    _demo_questions(users[0])
    logger.info("demo loaded: %d challenges, %d profiles", len(challenges), len(profiles))
    return {
        "challenges": len(challenges),
        "profiles": len(profiles),
        "applications": applications,
        "users": len(users),
    }
