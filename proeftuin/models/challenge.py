from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.orm import Mapped, mapped_column, relationship

from proeftuin.enums import ChallengeStatus, Language, ProcurementRoute, Theme
from proeftuin.extensions import db
from proeftuin.models.organisation import Organisation
from proeftuin.models.types import UTCDateTime, enum_type, utcnow


class ChallengeTheme(db.Model):
    __tablename__ = "challenge_theme"

    challenge_id: Mapped[int] = mapped_column(
        sa.ForeignKey("challenge.id", ondelete="CASCADE"), primary_key=True
    )
    theme: Mapped[Theme] = mapped_column(enum_type(Theme), primary_key=True)


class Challenge(db.Model):
    __tablename__ = "challenge"
    __table_args__ = (
        sa.CheckConstraint(
            "budget_min IS NULL OR budget_max IS NULL OR budget_min <= budget_max",
            name="budget_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    title: Mapped[str] = mapped_column(sa.String(160))
    summary: Mapped[str] = mapped_column(sa.String(600))
    problem: Mapped[str] = mapped_column(sa.Text)
    desired_outcome: Mapped[str] = mapped_column(sa.Text)
    constraints: Mapped[str | None] = mapped_column(sa.Text)
    evaluation_criteria: Mapped[str | None] = mapped_column(sa.Text)
    budget_min: Mapped[int | None]
    budget_max: Mapped[int | None]
    deadline: Mapped[date | None] = mapped_column(sa.Date)
    language: Mapped[Language] = mapped_column(enum_type(Language), default=Language.NL)
    procurement_route: Mapped[ProcurementRoute] = mapped_column(
        enum_type(ProcurementRoute), default=ProcurementRoute.UNDECIDED
    )
    status: Mapped[ChallengeStatus] = mapped_column(
        enum_type(ChallengeStatus), default=ChallengeStatus.DRAFT, index=True
    )
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organisation: Mapped[Organisation] = relationship()
    theme_rows: Mapped[list[ChallengeTheme]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by=ChallengeTheme.theme
    )
    themes: AssociationProxy[list[Theme]] = association_proxy(
        "theme_rows", "theme", creator=lambda theme: ChallengeTheme(theme=theme)
    )

    @property
    def is_open(self) -> bool:
        return self.status == ChallengeStatus.PUBLISHED

    def accepts_applications(self, today: date) -> bool:
        return self.is_open and (self.deadline is None or self.deadline >= today)

    def __repr__(self) -> str:
        return f"<Challenge {self.id} {self.status.value}>"
