"""Reading lists of experiments: the list a user may read (with its status filter and the counts per
status), and the organisations and challenges the "new experiment" and plan forms offer.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import orm

from proeftuin.enums import ExperimentStatus, OrgKind, Role
from proeftuin.extensions import db
from proeftuin.models import BuyerGroup, Challenge, Experiment, Kpi, Organisation, User
from proeftuin.policy import is_staff
from proeftuin.services.experiments.rules import CHALLENGE_STATUSES, FINAL, LIST_STATUSES, _joined_members
from proeftuin.services.listing import one_of


@dataclass
class ListFilters:
    status: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> ListFilters:
        """Raises InvalidInput for a status outside the allowlist (the view answers 400)."""
        return cls(status=one_of(args, "status", LIST_STATUSES))


def _visible(stmt: sa.Select, user: User) -> sa.Select:
    if is_staff(user):
        return stmt
    if user.organisation_id is None:
        return stmt.where(sa.false())
    if user.role == Role.MUNICIPALITY:
        return stmt.where(Experiment.municipalities.any(Organisation.id == user.organisation_id))
    if user.role == Role.STARTUP:
        return stmt.where(Experiment.startups.any(Organisation.id == user.organisation_id))
    return stmt.where(sa.false())


def list_query(user: User, filters: ListFilters) -> sa.Select:
    """The experiments the user may read, most recently changed first."""
    stmt = _visible(sa.select(Experiment), user).options(
        orm.joinedload(Experiment.challenge),
        orm.selectinload(Experiment.municipalities),
        orm.selectinload(Experiment.startups),
        orm.selectinload(Experiment.kpis).selectinload(Kpi.measurements),
    )
    if filters.status == "open":
        stmt = stmt.where(Experiment.status.not_in(FINAL))
    elif filters.status:
        stmt = stmt.where(Experiment.status == ExperimentStatus(filters.status))
    return stmt.order_by(Experiment.updated_at.desc(), Experiment.id.desc())


def status_counts(user: User) -> dict[str, int]:
    stmt = _visible(sa.select(Experiment.status, sa.func.count(Experiment.id)), user).group_by(Experiment.status)
    counts = {status.value: 0 for status in ExperimentStatus}
    for status, count in db.session.execute(stmt):
        counts[ExperimentStatus(status).value] = count
    counts["open"] = sum(v for k, v in counts.items() if ExperimentStatus(k) not in FINAL)
    counts["all"] = sum(counts[s.value] for s in ExperimentStatus)
    return counts


def startup_choices() -> list[Organisation]:
    return list(db.session.scalars(
        sa.select(Organisation).where(Organisation.kind == OrgKind.STARTUP).order_by(Organisation.name)))


def municipality_choices() -> list[Organisation]:
    return list(db.session.scalars(
        sa.select(Organisation).where(Organisation.kind == OrgKind.MUNICIPALITY).order_by(Organisation.name)))


def challenge_choices(user: User, buyer_group: BuyerGroup | None = None) -> list[Challenge]:
    """Challenges the user may open an experiment for (within the buyer group when one is given)."""
    stmt = sa.select(Challenge).where(Challenge.status.in_(CHALLENGE_STATUSES))
    if not is_staff(user):
        if user.role != Role.MUNICIPALITY or user.organisation_id is None:
            return []
        stmt = stmt.where(Challenge.organisation_id == user.organisation_id)
    if buyer_group is not None:
        stmt = stmt.where(Challenge.id.in_([m.challenge_id for m in _joined_members(buyer_group)]))
    return list(db.session.scalars(stmt.order_by(Challenge.title, Challenge.id)))
