from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.orm import Mapped, mapped_column, relationship

from proeftuin.enums import Language, Maturity, Theme
from proeftuin.extensions import db
from proeftuin.models.organisation import Organisation
from proeftuin.models.types import UTCDateTime, enum_type, utcnow


class ProfileTheme(db.Model):
    __tablename__ = "profile_theme"

    profile_id: Mapped[int] = mapped_column(
        sa.ForeignKey("startup_profile.id", ondelete="CASCADE"), primary_key=True
    )
    theme: Mapped[Theme] = mapped_column(enum_type(Theme), primary_key=True)


class StartupProfile(db.Model):
    __tablename__ = "startup_profile"
    __table_args__ = (
        sa.CheckConstraint("trl IS NULL OR (trl >= 1 AND trl <= 9)", name="trl_range"),
        sa.CheckConstraint("team_size IS NULL OR team_size >= 1", name="team_size_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), unique=True)
    tagline: Mapped[str] = mapped_column(sa.String(160))
    capabilities: Mapped[str] = mapped_column(sa.Text)
    references: Mapped[str | None] = mapped_column(sa.Text)
    maturity: Mapped[Maturity] = mapped_column(enum_type(Maturity))
    trl: Mapped[int | None]
    team_size: Mapped[int | None]
    language: Mapped[Language] = mapped_column(enum_type(Language), default=Language.NL)
    languages: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    regions_served: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="profile")
    theme_rows: Mapped[list[ProfileTheme]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by=ProfileTheme.theme
    )
    themes: AssociationProxy[list[Theme]] = association_proxy(
        "theme_rows", "theme", creator=lambda theme: ProfileTheme(theme=theme)
    )

    def __repr__(self) -> str:
        return f"<StartupProfile {self.id}>"
