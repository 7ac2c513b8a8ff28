"""Expertise profiles: a facilitator's (or admin's) own profile and saving it (the engine indexes it
after commit), the pool with each expert's open load, and the available experts a question can
be assigned to.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from proeftuin.enums import ExpertArea, Language, QuestionStatus
from proeftuin.extensions import db
from proeftuin.models import ExpertProfile, ExpertQuestion, User
from proeftuin.policy import STAFF_ROLES, is_staff
from proeftuin.services import Forbidden, InvalidInput, audit, outbox
from proeftuin.services.texts import EXPERT


@dataclass
class ProfileData:
    areas: list[ExpertArea]
    expertise: str
    languages: list[Language]
    language: Language
    available: bool = True


def own_profile(user: User) -> ExpertProfile | None:
    return db.session.scalar(sa.select(ExpertProfile).where(ExpertProfile.user_id == user.id))


def save_profile(user: User, data: ProfileData) -> ExpertProfile:
    """Create or update the acting facilitator's (or admin's) expertise profile.

    Raises:
        Forbidden: the user is not staff.
        InvalidInput: no area, no language, or too short a description.
    """
    if not is_staff(user):
        raise Forbidden()
    if not data.areas:
        raise InvalidInput(str(_l("Choose at least one area.")), "areas")
    if not data.languages:
        raise InvalidInput(str(_l("Choose at least one language.")), "languages")
    expertise = data.expertise.strip()
    if len(expertise) < 30:
        raise InvalidInput(str(_l("Describe your expertise in a few sentences.")), "expertise")
    profile = own_profile(user)
    created = profile is None
    if profile is None:
        profile = ExpertProfile(user_id=user.id)
        db.session.add(profile)
    profile.areas = [a.value for a in dict.fromkeys(data.areas)]
    profile.languages = [lang.value for lang in dict.fromkeys(data.languages)]
    profile.expertise = expertise
    profile.language = data.language
    profile.available = data.available
    db.session.flush()
    audit.record(user, "expert.profile_create" if created else "expert.profile_update", profile,
                 available=data.available)
    outbox.record("index.sync", {"kind": EXPERT, "id": profile.id})
    db.session.commit()
    return profile


@dataclass
class PoolEntry:
    profile: ExpertProfile
    open_load: int


def _open_loads(user_ids: list[int]) -> dict[int, int]:
    if not user_ids:
        return {}
    rows = db.session.execute(
        sa.select(ExpertQuestion.expert_id, sa.func.count())
        .where(ExpertQuestion.expert_id.in_(user_ids), ExpertQuestion.status == QuestionStatus.ASSIGNED)
        .group_by(ExpertQuestion.expert_id)
    ).all()
    return {user_id: count for user_id, count in rows}


def pool(actor: User) -> list[PoolEntry]:
    """Every expert with their areas, languages and open load (assigned, unanswered questions)."""
    if not is_staff(actor):
        raise Forbidden()
    profiles = list(db.session.scalars(
        sa.select(ExpertProfile).join(ExpertProfile.user).order_by(User.name, User.id)
    ))
    loads = _open_loads([p.user_id for p in profiles])
    return [PoolEntry(p, loads.get(p.user_id, 0)) for p in profiles]


def _available_profiles() -> list[ExpertProfile]:
    return list(db.session.scalars(
        sa.select(ExpertProfile).join(ExpertProfile.user)
        .where(ExpertProfile.available.is_(True), User.active.is_(True), User.role.in_(STAFF_ROLES))
        .order_by(User.name, User.id)
    ))


def assignable_experts() -> list[User]:
    """The users a question can be assigned to: available experts with an active staff account."""
    return [p.user for p in _available_profiles()]
