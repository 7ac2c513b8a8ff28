"""Facilitators review the engine's suggestions: accept (introduce), reject or ask for information."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from proeftuin.enums import RejectReason, Role, SuggestionStatus, Theme
from proeftuin.extensions import db
from proeftuin.models import Challenge, ChallengeTheme, MatchSuggestion, Organisation, User
from proeftuin.policy import is_staff
from proeftuin.services import Forbidden, InvalidInput, InvalidTransition, NotFound, audit, notify
from proeftuin.services.listing import one_of

DECISIONS = {
    "accept": SuggestionStatus.ACCEPTED,
    "reject": SuggestionStatus.REJECTED,
    "needs_info": SuggestionStatus.NEEDS_INFO,
}
# Accepted and rejected are final; "needs info" can still be accepted or rejected.
OPEN_STATUSES = {SuggestionStatus.PROPOSED, SuggestionStatus.NEEDS_INFO}
# Score bands in the ranker's unit (standard deviations above the average candidate), used for
# filtering and for the acceptance rate per band on the dashboard.
BANDS = {"low": (None, 1.5), "medium": (1.5, 2.5), "high": (2.5, 3.5), "top": (3.5, None)}
SORTS = {
    "score": (MatchSuggestion.score.desc(), MatchSuggestion.id),
    "newest": (MatchSuggestion.created_at.desc(), MatchSuggestion.id.desc()),
    "oldest": (MatchSuggestion.created_at.asc(), MatchSuggestion.id),
}
AGES = {"week": 7, "month": 30, "older": None}

INTRO_TEXT = _l("Introduction: %(startup)s and %(municipality)s for \u201c%(challenge)s\u201d. "
                "You can now see each other's contact details.")
INTRO_SUBJECT = _l("Proeftuin introduces you: %(challenge)s")
NEEDS_INFO_TEXT = _l("The support point would like more information about %(startup)s for \u201c%(challenge)s\u201d: "
                     "%(reason)s")


def band_of(score: float) -> str:
    for name, (low, high) in BANDS.items():
        if (low is None or score >= low) and (high is None or score < high):
            return name
    return "low"


@dataclass
class QueueFilters:
    status: str = "open"
    theme: str | None = None
    municipality: str | None = None
    band: str | None = None
    age: str | None = None
    sort: str = "score"

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> QueueFilters:
        municipality = args.get("municipality", "").strip() or None
        if municipality is not None and not municipality.isdigit():
            raise InvalidInput("unknown municipality")
        return cls(
            status=one_of(args, "status", {"open", "all", *SuggestionStatus.values()}) or "open",
            theme=one_of(args, "theme", Theme.values()),
            municipality=municipality,
            band=one_of(args, "band", set(BANDS)),
            age=one_of(args, "age", set(AGES)),
            sort=one_of(args, "sort", set(SORTS)) or "score",
        )


def queue_query(filters: QueueFilters, now: datetime | None = None) -> sa.Select:
    now = now or datetime.now(UTC)
    stmt = sa.select(MatchSuggestion).join(MatchSuggestion.challenge).join(Challenge.organisation)
    if filters.status == "open":
        stmt = stmt.where(MatchSuggestion.status.in_(OPEN_STATUSES))
    elif filters.status != "all":
        stmt = stmt.where(MatchSuggestion.status == SuggestionStatus(filters.status))
    if filters.theme:
        stmt = stmt.where(Challenge.theme_rows.any(ChallengeTheme.theme == Theme(filters.theme)))
    if filters.municipality:
        stmt = stmt.where(Organisation.municipality_nis == filters.municipality)
    if filters.band:
        low, high = BANDS[filters.band]
        if low is not None:
            stmt = stmt.where(MatchSuggestion.score >= low)
        if high is not None:
            stmt = stmt.where(MatchSuggestion.score < high)
    if filters.age:
        days = AGES[filters.age]
        if days is None:
            stmt = stmt.where(MatchSuggestion.created_at < now - timedelta(days=30))
        else:
            stmt = stmt.where(MatchSuggestion.created_at >= now - timedelta(days=days))
    return stmt.order_by(*SORTS[filters.sort])


def decide(actor: User, suggestion_ids: Sequence[int], decision: str, reason_code: str | None,
           reason: str | None) -> list[MatchSuggestion]:
    """Record one decision for one or more suggestions, in one transaction.

    Accepting introduces the parties (in-app notification and e-mail to both); rejecting keeps the
    pair from being proposed again for the same texts; "needs info" asks the start-up to say more.

    Raises:
        Forbidden: the actor is not a facilitator or admin.
        InvalidInput: unknown decision, or a reject / needs-info without a reason.
        InvalidTransition: a suggestion was already accepted or rejected, or an acceptance would
            introduce an organisation that is not verified.
        NotFound: an id does not exist.
    """
    if not is_staff(actor):
        raise Forbidden()
    if decision not in DECISIONS:
        raise InvalidInput("unknown decision")
    if reason_code is not None and reason_code not in RejectReason.values():
        raise InvalidInput("unknown reason")
    reason = (reason or "").strip() or None
    if decision != "accept" and not (reason_code or reason):
        raise InvalidInput(str(_l("Give a reason for this decision.")), "reason")
    if not suggestion_ids:
        raise InvalidInput(str(_l("Select at least one suggestion.")))
    rows = db.session.scalars(sa.select(MatchSuggestion).where(MatchSuggestion.id.in_(suggestion_ids))).all()
    if len(rows) != len(set(suggestion_ids)):
        raise NotFound()
    now = datetime.now(UTC)
    target = DECISIONS[decision]
    for row in rows:
        if row.status not in OPEN_STATUSES:
            raise InvalidTransition(str(_l("This suggestion was already decided.")))
        if decision == "accept":
            _check_introducible(row)
        row.status = target
        row.reviewer_id = actor.id
        row.reason_code = reason_code
        row.reason = reason
        row.decided_at = now
        audit.record(actor, f"match.{decision}", row, challenge_id=row.challenge_id, profile_id=row.profile_id,
                     reason_code=reason_code)
        _tell_parties(row, decision, reason)
    db.session.commit()
    return list(rows)


def _check_introducible(row: MatchSuggestion) -> None:
    """Only verified organisations are introduced to each other.

    Raises:
        InvalidTransition: the start-up or the municipality is not verified yet.
    """
    startup = row.profile.organisation
    if not startup.is_verified:
        raise InvalidTransition(str(_l(
            "%(startup)s is not verified yet; verify the start-up before introducing it.",
            startup=startup.name)))
    municipality = row.challenge.organisation
    if not municipality.is_verified:
        raise InvalidTransition(str(_l(
            "%(municipality)s is not verified yet; verify the municipality before introducing it.",
            municipality=municipality.name)))


def _tell_parties(row: MatchSuggestion, decision: str, reason: str | None) -> None:
    challenge = row.challenge
    startup = row.profile.organisation
    link = f"/matches/{row.id}"

    def values() -> dict:
        return {"startup": startup.name, "municipality": challenge.organisation.name,
                "challenge": challenge.title, "reason": reason or ""}

    if decision == "accept":
        users = notify.members(challenge.organisation) + notify.members(startup)
        notify.notify_users(users, "match.accepted", INTRO_TEXT, link, values, INTRO_SUBJECT, INTRO_TEXT)
    elif decision == "needs_info":
        notify.notify_users(notify.members(startup), "match.needs_info", NEEDS_INFO_TEXT,
                            "/startups/profile", values)


def can_view_match(user: User, row: MatchSuggestion) -> bool:
    """Staff always; the two parties once the facilitator introduced them."""
    if is_staff(user):
        return True
    if row.status != SuggestionStatus.ACCEPTED:
        return False
    if user.role == Role.MUNICIPALITY:
        return user.organisation_id == row.challenge.organisation_id
    if user.role == Role.STARTUP:
        return user.organisation_id == row.profile.organisation_id
    return False


def get_match(user: User, suggestion_id: int) -> MatchSuggestion:
    row = db.session.get(MatchSuggestion, suggestion_id)
    if row is None or not can_view_match(user, row):
        raise NotFound()
    return row


def accepted_for(user: User) -> list[MatchSuggestion]:
    """The introductions a municipality or start-up member is part of."""
    stmt = sa.select(MatchSuggestion).where(MatchSuggestion.status == SuggestionStatus.ACCEPTED)
    if user.role == Role.MUNICIPALITY:
        stmt = stmt.join(MatchSuggestion.challenge).where(Challenge.organisation_id == user.organisation_id)
    elif user.role == Role.STARTUP:
        from proeftuin.models import StartupProfile
        stmt = stmt.join(MatchSuggestion.profile).where(StartupProfile.organisation_id == user.organisation_id)
    return list(db.session.scalars(stmt.order_by(MatchSuggestion.decided_at.desc())))
