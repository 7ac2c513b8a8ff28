from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from proeftuin.enums import Language, QuestionStatus
from proeftuin.extensions import db
from proeftuin.models.challenge import Challenge
from proeftuin.models.organisation import Organisation
from proeftuin.models.types import UTCDateTime, enum_type, utcnow
from proeftuin.models.user import User


class ExpertProfile(db.Model):
    """What a facilitator or invited expert knows, for routing questions to them."""

    __tablename__ = "expert_profile"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), unique=True)
    areas: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    expertise: Mapped[str] = mapped_column(sa.Text)
    languages: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    language: Mapped[Language] = mapped_column(enum_type(Language), default=Language.NL)
    available: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship()


class ExpertQuestion(db.Model):
    """A municipality's legal, procedural or technical question for the expert pool."""

    __tablename__ = "expert_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    asked_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    challenge_id: Mapped[int | None] = mapped_column(sa.ForeignKey("challenge.id"))
    area: Mapped[str] = mapped_column(sa.String(40))
    title: Mapped[str] = mapped_column(sa.String(200))
    question: Mapped[str] = mapped_column(sa.Text)
    language: Mapped[Language] = mapped_column(enum_type(Language), default=Language.NL)
    status: Mapped[QuestionStatus] = mapped_column(enum_type(QuestionStatus), default=QuestionStatus.OPEN,
                                                   index=True)
    expert_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    assigned_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    due_on: Mapped[date | None] = mapped_column(sa.Date)
    answer: Mapped[str | None] = mapped_column(sa.Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published: Mapped[bool] = mapped_column(default=False, index=True)
    public_title: Mapped[str | None] = mapped_column(sa.String(200))
    public_question: Mapped[str | None] = mapped_column(sa.Text)
    public_answer: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    asked_by: Mapped[User] = relationship(foreign_keys=[asked_by_id])
    expert: Mapped[User | None] = relationship(foreign_keys=[expert_id])
    challenge: Mapped[Challenge | None] = relationship()
    messages: Mapped[list[QuestionMessage]] = relationship(cascade="all, delete-orphan",
                                                           order_by="QuestionMessage.created_at")


class QuestionMessage(db.Model):
    __tablename__ = "question_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("expert_question.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[User] = relationship()
