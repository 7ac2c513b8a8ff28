"""Challenges: writing, the status machine, visibility and browsing."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from proeftuin.enums import ChallengeStatus, Language, ProcurementRoute, Role, Theme
from proeftuin.extensions import db
from proeftuin.models import Challenge, ChallengeTheme, Municipality, Organisation, User
from proeftuin.policy import can_act_for_org, is_staff, may_change_challenge, owns_challenge
from proeftuin.services import Forbidden, InvalidInput, InvalidTransition, NotFound, audit, outbox
from proeftuin.services.listing import like_pattern, one_of

PUBLIC_STATUSES = (
    ChallengeStatus.PUBLISHED,
    ChallengeStatus.CLOSED,
    ChallengeStatus.IN_EXPERIMENT,
    ChallengeStatus.COMPLETED,
)

# status -> statuses it may move to, and by which action
TRANSITIONS: dict[str, tuple[set[ChallengeStatus], ChallengeStatus]] = {
    "publish": ({ChallengeStatus.DRAFT}, ChallengeStatus.PUBLISHED),
    "close": ({ChallengeStatus.PUBLISHED}, ChallengeStatus.CLOSED),
    "reopen": ({ChallengeStatus.CLOSED}, ChallengeStatus.PUBLISHED),
    "archive": (
        {ChallengeStatus.DRAFT, ChallengeStatus.CLOSED, ChallengeStatus.COMPLETED},
        ChallengeStatus.ARCHIVED,
    ),
}

SORTS = {
    "newest": (Challenge.published_at.desc().nulls_last(), Challenge.id.desc()),
    "deadline": (Challenge.deadline.asc().nulls_last(), Challenge.id),
    "title": (Challenge.title, Challenge.id),
}


@dataclass
class ChallengeData:
    title: str
    summary: str
    problem: str
    desired_outcome: str
    themes: list[Theme]
    language: Language
    procurement_route: ProcurementRoute
    constraints: str | None = None
    evaluation_criteria: str | None = None
    budget_min: int | None = None
    budget_max: int | None = None
    deadline: date | None = None


def is_public(challenge: Challenge) -> bool:
    """Anyone may read it: a public status, written by a verified municipality."""
    return challenge.status in PUBLIC_STATUSES and challenge.organisation.is_verified


def can_view(user: User | None, challenge: Challenge) -> bool:
    """Public challenges for everyone; the rest only for its own municipality and staff."""
    return is_public(challenge) or owns_challenge(user, challenge) or is_staff(user)


def get_visible(user: User | None, challenge_id: int) -> Challenge:
    """Raises NotFound when the challenge does not exist or the user may not see it."""
    challenge = db.session.get(Challenge, challenge_id)
    if challenge is None or not can_view(user, challenge):
        raise NotFound()
    return challenge


def get_owned(user: User, challenge_id: int) -> Challenge:
    """The challenge if the user's municipality owns it; NotFound otherwise (no oracle)."""
    challenge = db.session.get(Challenge, challenge_id)
    if challenge is None or not owns_challenge(user, challenge):
        raise NotFound()
    return challenge


def get_changeable(user: User, challenge_id: int) -> Challenge:
    """The challenge if the user may change it: NotFound for others, Forbidden for its viewers."""
    challenge = get_owned(user, challenge_id)
    if not may_change_challenge(user, challenge):
        raise Forbidden(str(_l("Viewers of the organisation can read its challenges but not change them.")))
    return challenge


def _validate(data: ChallengeData) -> None:
    if not data.themes:
        raise InvalidInput(str(_l("Choose at least one theme.")), "themes")
    if data.budget_min is not None and data.budget_max is not None:
        if data.budget_min > data.budget_max:
            raise InvalidInput(
                str(_l("The minimum budget cannot be higher than the maximum.")), "budget_max"
            )


def _apply(challenge: Challenge, data: ChallengeData) -> None:
    for name in (
        "title", "summary", "problem", "desired_outcome", "language", "procurement_route",
        "constraints", "evaluation_criteria", "budget_min", "budget_max", "deadline",
    ):
        setattr(challenge, name, getattr(data, name))
    wanted = list(dict.fromkeys(data.themes))
    challenge.theme_rows = [
        row for row in challenge.theme_rows if row.theme in wanted
    ] + [ChallengeTheme(theme=t) for t in wanted if t not in set(challenge.themes)]


def create(user: User, data: ChallengeData) -> Challenge:
    """Create a draft challenge for the user's municipality."""
    if user.role != Role.MUNICIPALITY or not can_act_for_org(user, user.organisation_id):
        raise Forbidden()
    _validate(data)
    challenge = Challenge(organisation_id=user.organisation_id, created_by_id=user.id)
    _apply(challenge, data)
    db.session.add(challenge)
    db.session.flush()
    audit.record(user, "challenge.create", challenge)
    db.session.commit()
    return challenge


def update(user: User, challenge_id: int, data: ChallengeData) -> Challenge:
    challenge = get_changeable(user, challenge_id)
    if challenge.status not in (ChallengeStatus.DRAFT, ChallengeStatus.PUBLISHED, ChallengeStatus.CLOSED):
        raise InvalidTransition(str(_l("This challenge can no longer be edited.")))
    _validate(data)
    _apply(challenge, data)
    audit.record(user, "challenge.update", challenge)
    outbox.record("challenge.changed", {"id": challenge.id})
    db.session.commit()
    return challenge


def transition(user: User, challenge_id: int, action: str, today: date | None = None) -> Challenge:
    """Move a challenge through its status machine (publish, close, reopen, archive)."""
    challenge = get_changeable(user, challenge_id)
    if action not in TRANSITIONS:
        raise InvalidInput("unknown action")
    sources, target = TRANSITIONS[action]
    if challenge.status not in sources:
        raise InvalidTransition(str(_l("This action is not possible in the current status.")))
    today = today or date.today()
    if action in ("publish", "reopen") and challenge.deadline and challenge.deadline < today:
        raise InvalidTransition(
            str(_l("The deadline has passed; set a new deadline before publishing.")), "deadline"
        )
    challenge.status = target
    now = datetime.now(UTC)
    if action == "publish" and challenge.published_at is None:
        challenge.published_at = now
    if action == "close":
        challenge.closed_at = now
    audit.record(user, f"challenge.{action}", challenge, status=target.value)
    outbox.record("challenge.changed", {"id": challenge.id})
    db.session.commit()
    return challenge


@dataclass
class ChallengeFilters:
    theme: str | None = None
    municipality: str | None = None
    province: str | None = None
    language: str | None = None
    status: str | None = None
    q: str | None = None
    sort: str = "newest"
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> ChallengeFilters:
        """Read filters from a query string, refusing values outside the allowlists."""
        provinces = set(db.session.scalars(sa.select(Municipality.province).distinct()))
        municipality = args.get("municipality", "").strip() or None
        if municipality is not None and (len(municipality) != 5 or not municipality.isdigit()):
            raise InvalidInput("unknown municipality")
        q = args.get("q", "").strip()[:200] or None
        return cls(
            theme=one_of(args, "theme", Theme.values()),
            municipality=municipality,
            province=one_of(args, "province", provinces),
            language=one_of(args, "language", Language.values()),
            status=one_of(args, "status", {s.value for s in PUBLIC_STATUSES}),
            q=q,
            sort=one_of(args, "sort", set(SORTS)) or "newest",
        )


def browse_query(filters: ChallengeFilters) -> sa.Select:
    """Public challenges matching the filters (drafts, archived ones and those of unverified
    municipalities never appear)."""
    stmt = sa.select(Challenge).join(Challenge.organisation).where(Organisation.verified_at.is_not(None))
    if filters.status:
        stmt = stmt.where(Challenge.status == ChallengeStatus(filters.status))
    else:
        stmt = stmt.where(Challenge.status.in_(PUBLIC_STATUSES))
    if filters.theme:
        stmt = stmt.where(Challenge.theme_rows.any(ChallengeTheme.theme == Theme(filters.theme)))
    if filters.municipality:
        stmt = stmt.where(Organisation.municipality_nis == filters.municipality)
    if filters.province:
        stmt = stmt.join(Organisation.municipality).where(Municipality.province == filters.province)
    if filters.language:
        stmt = stmt.where(Challenge.language == Language(filters.language))
    if filters.q:
        pattern = like_pattern(filters.q)
        stmt = stmt.where(
            sa.or_(
                Challenge.title.ilike(pattern, escape="\\"),
                Challenge.summary.ilike(pattern, escape="\\"),
                Challenge.problem.ilike(pattern, escape="\\"),
            )
        )
    return stmt.order_by(*SORTS[filters.sort])


def owned_query(user: User) -> sa.Select:
    return (
        sa.select(Challenge)
        .where(Challenge.organisation_id == user.organisation_id)
        .order_by(Challenge.updated_at.desc())
    )


def municipalities_with_challenges() -> list[Municipality]:
    stmt = (
        sa.select(Municipality)
        .join(Organisation, Organisation.municipality_nis == Municipality.nis_code)
        .join(Challenge, Challenge.organisation_id == Organisation.id)
        .where(Challenge.status.in_(PUBLIC_STATUSES), Organisation.verified_at.is_not(None))
        .distinct()
        .order_by(Municipality.name_nl)
    )
    return list(db.session.scalars(stmt))


def provinces() -> list[str]:
    return list(db.session.scalars(sa.select(Municipality.province).distinct().order_by(Municipality.province)))
