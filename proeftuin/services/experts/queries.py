"""Reading lists: the questions a user may see with the list's filters and order (active first, then
by due date), and the challenges a municipality member may tie a question to.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from proeftuin.enums import ExpertArea, QuestionStatus, Role
from proeftuin.extensions import db
from proeftuin.models import Challenge, ExpertQuestion, User
from proeftuin.policy import is_staff
from proeftuin.services import Forbidden
from proeftuin.services.experts.rules import ACTIVE_STATUSES
from proeftuin.services.listing import one_of

# Question list: active questions first, then by due date (unassigned questions have none and
# come first: they still need an expert), then oldest first.
QUESTION_ORDER = (
    sa.case((ExpertQuestion.status.in_(ACTIVE_STATUSES), 0), else_=1),
    ExpertQuestion.due_on.asc().nulls_first(),
    ExpertQuestion.created_at.asc(),
    ExpertQuestion.id,
)


@dataclass
class QuestionFilters:
    status: str | None = None
    area: str | None = None
    overdue: bool = False
    mine: bool = False

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> QuestionFilters:
        """Read the list filters, refusing values outside the allowlists (InvalidInput)."""
        return cls(
            status=one_of(args, "status", {"active", *QuestionStatus.values()}),
            area=one_of(args, "area", ExpertArea.values()),
            overdue=one_of(args, "overdue", {"1"}) == "1",
            mine=one_of(args, "mine", {"1"}) == "1",
        )


def list_query(user: User, filters: QuestionFilters, today: date | None = None) -> sa.Select:
    """Questions the user may see: their municipality's, or (staff) all of them, with filters."""
    today = today or date.today()
    stmt = sa.select(ExpertQuestion)
    if user.role == Role.MUNICIPALITY:
        stmt = stmt.where(ExpertQuestion.organisation_id == user.organisation_id)
    elif not is_staff(user):
        raise Forbidden()
    if filters.status == "active":
        stmt = stmt.where(ExpertQuestion.status.in_(ACTIVE_STATUSES))
    elif filters.status:
        stmt = stmt.where(ExpertQuestion.status == QuestionStatus(filters.status))
    if filters.area:
        stmt = stmt.where(ExpertQuestion.area == filters.area)
    if filters.overdue:
        stmt = stmt.where(ExpertQuestion.status.in_(ACTIVE_STATUSES), ExpertQuestion.due_on < today)
    if filters.mine:
        stmt = stmt.where(ExpertQuestion.expert_id == user.id)
    return stmt.order_by(*QUESTION_ORDER)


def own_challenges(user: User) -> list[Challenge]:
    """The challenges a municipality member may tie a question to (their own organisation's)."""
    if user.role != Role.MUNICIPALITY or user.organisation_id is None:
        return []
    return list(db.session.scalars(
        sa.select(Challenge).where(Challenge.organisation_id == user.organisation_id)
        .order_by(Challenge.updated_at.desc(), Challenge.id.desc())
    ))
