"""Start-up profiles: one per start-up organisation, public once written."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from proeftuin.enums import Language, Maturity, Region, Role, Theme
from proeftuin.extensions import db
from proeftuin.models import Organisation, ProfileTheme, StartupProfile, User
from proeftuin.services import Forbidden, InvalidInput, NotFound, audit, outbox
from proeftuin.services.listing import like_pattern, one_of

SORTS = {
    "name": (Organisation.name, StartupProfile.id),
    "updated": (StartupProfile.updated_at.desc(), StartupProfile.id.desc()),
}


@dataclass
class ProfileData:
    tagline: str
    capabilities: str
    maturity: Maturity
    themes: list[Theme]
    language: Language
    references: str | None = None
    trl: int | None = None
    team_size: int | None = None
    languages: list[str] = field(default_factory=list)
    regions_served: list[str] = field(default_factory=list)
    website: str | None = None


def own_profile(user: User) -> StartupProfile | None:
    if user.role != Role.STARTUP or user.organisation_id is None:
        return None
    return db.session.scalar(
        sa.select(StartupProfile).where(StartupProfile.organisation_id == user.organisation_id)
    )


def get_public(organisation_slug: str) -> StartupProfile:
    profile = db.session.scalar(
        sa.select(StartupProfile)
        .join(StartupProfile.organisation)
        .where(Organisation.slug == organisation_slug)
    )
    if profile is None:
        raise NotFound()
    return profile


def save(user: User, data: ProfileData) -> StartupProfile:
    """Create or update the profile of the user's own start-up (never another's)."""
    if user.role != Role.STARTUP or user.organisation_id is None:
        raise Forbidden()
    if not data.themes:
        raise InvalidInput(str(_l("Choose at least one theme.")), "themes")
    if data.trl is not None and not 1 <= data.trl <= 9:
        raise InvalidInput(str(_l("The TRL is a number from 1 to 9.")), "trl")
    profile = own_profile(user)
    created = profile is None
    if profile is None:
        profile = StartupProfile(organisation_id=user.organisation_id)
        db.session.add(profile)
    for name in ("tagline", "capabilities", "maturity", "language", "references", "trl", "team_size"):
        setattr(profile, name, getattr(data, name))
    profile.languages = [v for v in data.languages if v in Language.values()]
    profile.regions_served = [v for v in data.regions_served if v in Region.values()]
    wanted = list(dict.fromkeys(data.themes))
    current = {row.theme for row in profile.theme_rows}
    profile.theme_rows = [r for r in profile.theme_rows if r.theme in wanted] + [
        ProfileTheme(theme=t) for t in wanted if t not in current
    ]
    if data.website is not None:
        profile_org = db.session.get(Organisation, user.organisation_id)
        profile_org.website = data.website or None
    db.session.flush()
    audit.record(user, "profile.create" if created else "profile.update", profile)
    outbox.record("profile.changed", {"id": profile.id})
    db.session.commit()
    return profile


@dataclass
class ProfileFilters:
    theme: str | None = None
    maturity: str | None = None
    region: str | None = None
    language: str | None = None
    q: str | None = None
    sort: str = "name"

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> ProfileFilters:
        return cls(
            theme=one_of(args, "theme", Theme.values()),
            maturity=one_of(args, "maturity", Maturity.values()),
            region=one_of(args, "region", Region.values()),
            language=one_of(args, "language", Language.values()),
            q=args.get("q", "").strip()[:200] or None,
            sort=one_of(args, "sort", set(SORTS)) or "name",
        )


def browse_query(filters: ProfileFilters) -> sa.Select:
    stmt = sa.select(StartupProfile).join(StartupProfile.organisation)
    if filters.theme:
        stmt = stmt.where(StartupProfile.theme_rows.any(ProfileTheme.theme == Theme(filters.theme)))
    if filters.maturity:
        stmt = stmt.where(StartupProfile.maturity == Maturity(filters.maturity))
    if filters.region:
        stmt = stmt.where(Organisation.region == Region(filters.region))
    if filters.language:
        stmt = stmt.where(StartupProfile.language == Language(filters.language))
    if filters.q:
        pattern = like_pattern(filters.q)
        stmt = stmt.where(
            sa.or_(
                Organisation.name.ilike(pattern, escape="\\"),
                StartupProfile.tagline.ilike(pattern, escape="\\"),
                StartupProfile.capabilities.ilike(pattern, escape="\\"),
            )
        )
    return stmt.order_by(*SORTS[filters.sort])
