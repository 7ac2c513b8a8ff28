"""Reading the knowledge base: the published entries with their keyword search (on the public,
anonymised fields only), one entry, and the day a facilitator last confirmed its text.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from proeftuin.enums import ExpertArea, Language
from proeftuin.extensions import db
from proeftuin.models import AuditEvent, ExpertQuestion
from proeftuin.services import NotFound
from proeftuin.services.experts.publication import PUBLISH_ACTIONS
from proeftuin.services.listing import like_pattern, one_of


@dataclass
class KnowledgeFilters:
    q: str | None = None
    area: str | None = None
    language: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> KnowledgeFilters:
        return cls(
            q=args.get("q", "").strip()[:200] or None,
            area=one_of(args, "area", ExpertArea.values()),
            language=one_of(args, "language", Language.values()),
        )


def knowledge_query(filters: KnowledgeFilters) -> sa.Select:
    """Published entries only; the keyword search reads the public (anonymised) fields only."""
    stmt = sa.select(ExpertQuestion).where(ExpertQuestion.published.is_(True))
    if filters.area:
        stmt = stmt.where(ExpertQuestion.area == filters.area)
    if filters.language:
        stmt = stmt.where(ExpertQuestion.language == Language(filters.language))
    if filters.q:
        for word in filters.q.split()[:8]:
            pattern = like_pattern(word)
            stmt = stmt.where(sa.or_(
                ExpertQuestion.public_title.ilike(pattern, escape="\\"),
                ExpertQuestion.public_question.ilike(pattern, escape="\\"),
                ExpertQuestion.public_answer.ilike(pattern, escape="\\"),
            ))
    return stmt.order_by(ExpertQuestion.answered_at.desc().nulls_last(), ExpertQuestion.id.desc())


@dataclass
class KnowledgeEntry:
    """What the knowledge base may show of a question: the public copy and nothing else.

    `checked_on`: the day a facilitator last confirmed the public text holds no personal data
    (None for entries published before that confirmation existed).
    """

    id: int
    area: ExpertArea
    language: Language
    title: str
    question: str
    answer: str
    answered_on: date | None
    checked_on: date | None = None


def entry_of(question: ExpertQuestion, checked_on: date | None = None) -> KnowledgeEntry:
    return KnowledgeEntry(
        id=question.id, area=ExpertArea(question.area), language=question.language,
        title=question.public_title or "", question=question.public_question or "",
        answer=question.public_answer or "",
        answered_on=question.answered_at.date() if question.answered_at else None,
        checked_on=checked_on,
    )


def checked_on(question: ExpertQuestion) -> date | None:
    """The day of the last publication or update of the public text, if the facilitator confirmed it."""
    event = db.session.scalar(
        sa.select(AuditEvent)
        .where(AuditEvent.object_type == "ExpertQuestion", AuditEvent.object_id == question.id,
               AuditEvent.action.in_(PUBLISH_ACTIONS))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(1)
    )
    if event is None or not (event.detail or {}).get("confirmed"):
        return None
    return event.at.date()


def get_published(question_id: int) -> KnowledgeEntry:
    question = db.session.get(ExpertQuestion, question_id)
    if question is None or not question.published or not question.public_answer:
        raise NotFound()
    return entry_of(question, checked_on(question))
