from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from proeftuin.enums import JoinRequestStatus, OrgKind, OrgRole, Region
from proeftuin.extensions import db
from proeftuin.models.types import UTCDateTime, enum_type, utcnow

if TYPE_CHECKING:
    from proeftuin.models.profile import StartupProfile
    from proeftuin.models.user import User


class Municipality(db.Model):
    """Reference list of Flemish and Brussels municipalities (Statbel REFNIS, 2025-01-01)."""

    __tablename__ = "municipality"

    nis_code: Mapped[str] = mapped_column(sa.String(5), primary_key=True)
    name_nl: Mapped[str] = mapped_column(sa.String(120))
    name_fr: Mapped[str | None] = mapped_column(sa.String(120))
    province: Mapped[str] = mapped_column(sa.String(40), index=True)

    def name(self, locale: str = "nl") -> str:
        if locale == "fr" and self.name_fr:
            return self.name_fr
        return self.name_nl


class Organisation(db.Model):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OrgKind] = mapped_column(enum_type(OrgKind), index=True)
    name: Mapped[str] = mapped_column(sa.String(160))
    slug: Mapped[str] = mapped_column(sa.String(180), unique=True)
    region: Mapped[Region] = mapped_column(enum_type(Region))
    municipality_nis: Mapped[str | None] = mapped_column(
        sa.ForeignKey("municipality.nis_code"), unique=True
    )
    website: Mapped[str | None] = mapped_column(sa.String(300))
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    # Organisation settings (issue 10): shown to everyone, except the phone (and contact e-mail) that
    # only parties that were introduced see.
    description: Mapped[str | None] = mapped_column(sa.Text())
    contact_phone: Mapped[str | None] = mapped_column(sa.String(40))
    languages: Mapped[list] = mapped_column(sa.JSON, default=list)
    # The logo, re-encoded on upload and stored outside static/ under a random name.
    logo_file: Mapped[str | None] = mapped_column(sa.String(80))
    logo_content_type: Mapped[str | None] = mapped_column(sa.String(40))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when the support point refused (or withdrew) the verification; cleared when it verifies.
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rejection_reason: Mapped[str | None] = mapped_column(sa.Text())
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    municipality: Mapped[Municipality | None] = relationship()
    members: Mapped[list[User]] = relationship(back_populates="organisation")
    profile: Mapped[StartupProfile | None] = relationship(back_populates="organisation")

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    @property
    def is_rejected(self) -> bool:
        """Refused or withdrawn by the support point, and not verified since."""
        return self.verified_at is None and self.rejected_at is not None

    @property
    def verification_state(self) -> str:
        """``"verified"``, ``"rejected"`` or ``"pending"``."""
        if self.verified_at is not None:
            return "verified"
        return "rejected" if self.rejected_at is not None else "pending"

    def __repr__(self) -> str:
        return f"<Organisation {self.slug}>"


class Invitation(db.Model):
    """An organisation admin's single-use invitation of a colleague, by e-mail (issue 10).

    Only the SHA-256 of the token is stored; the link in the mail carries the token itself.
    """

    __tablename__ = "organisation_invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    role: Mapped[OrgRole] = mapped_column(enum_type(OrgRole))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accepted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organisation: Mapped[Organisation] = relationship()


class JoinRequest(db.Model):
    """Someone who registered for an organisation that already exists asks its admins to let them in."""

    __tablename__ = "join_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    message: Mapped[str | None] = mapped_column(sa.Text())
    status: Mapped[JoinRequestStatus] = mapped_column(enum_type(JoinRequestStatus), default=JoinRequestStatus.PENDING,
                                                      index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))

    organisation: Mapped[Organisation] = relationship()
