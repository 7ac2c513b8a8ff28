from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from proeftuin.enums import ApplicationStatus
from proeftuin.extensions import db
from proeftuin.models.challenge import Challenge
from proeftuin.models.organisation import Organisation
from proeftuin.models.types import UTCDateTime, enum_type, utcnow


class Application(db.Model):
    """A start-up's proposal for a challenge; confidential to both parties and facilitators."""

    __tablename__ = "application"
    __table_args__ = (sa.UniqueConstraint("challenge_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(sa.ForeignKey("challenge.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    proposal: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[ApplicationStatus] = mapped_column(
        enum_type(ApplicationStatus), default=ApplicationStatus.SUBMITTED, index=True
    )
    decision_message: Mapped[str | None] = mapped_column(sa.Text)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    challenge: Mapped[Challenge] = relationship()
    organisation: Mapped[Organisation] = relationship()

    @property
    def is_active(self) -> bool:
        return self.status not in (ApplicationStatus.WITHDRAWN, ApplicationStatus.REJECTED)

    def __repr__(self) -> str:
        return f"<Application {self.id} {self.status.value}>"
