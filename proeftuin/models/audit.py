from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from proeftuin.extensions import db
from proeftuin.models.types import UTCDateTime, utcnow


class AuditEvent(db.Model):
    """Who did what to which object; written in the same transaction as the change."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisation.id"))
    action: Mapped[str] = mapped_column(sa.String(60), index=True)
    object_type: Mapped[str] = mapped_column(sa.String(40))
    object_id: Mapped[int | None]
    detail: Mapped[dict] = mapped_column(sa.JSON, default=dict)
