from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from proeftuin.enums import BuyerGroupStatus, InvitationStatus
from proeftuin.extensions import db
from proeftuin.models.challenge import Challenge
from proeftuin.models.types import UTCDateTime, enum_type, utcnow


class BuyerGroup(db.Model):
    """Municipalities with the same need, grouped for one experiment and one joint procurement."""

    __tablename__ = "buyer_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(160))
    status: Mapped[BuyerGroupStatus] = mapped_column(
        enum_type(BuyerGroupStatus), default=BuyerGroupStatus.PROPOSED, index=True
    )
    reasons: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    members: Mapped[list[BuyerGroupMember]] = relationship(
        back_populates="group", cascade="all, delete-orphan", order_by="BuyerGroupMember.id"
    )


class BuyerGroupMember(db.Model):
    """One challenge (and so one municipality) in a buyer group, with its invitation."""

    __tablename__ = "buyer_group_member"
    __table_args__ = (sa.UniqueConstraint("group_id", "challenge_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("buyer_group.id", ondelete="CASCADE"), index=True)
    challenge_id: Mapped[int] = mapped_column(sa.ForeignKey("challenge.id"), index=True)
    invitation: Mapped[InvitationStatus] = mapped_column(
        enum_type(InvitationStatus), default=InvitationStatus.INVITED
    )
    responded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    group: Mapped[BuyerGroup] = relationship(back_populates="members")
    challenge: Mapped[Challenge] = relationship()
