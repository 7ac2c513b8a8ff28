from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from proeftuin.enums import OrgKind, Region
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
