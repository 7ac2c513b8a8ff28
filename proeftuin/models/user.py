from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from proeftuin.enums import OrgRole, Role
from proeftuin.extensions import db
from proeftuin.models.organisation import Organisation
from proeftuin.models.types import UTCDateTime, enum_type, utcnow


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    name: Mapped[str] = mapped_column(sa.String(120))
    role: Mapped[Role] = mapped_column(enum_type(Role))
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisation.id"), index=True
    )
    # The role in `organisation` (None for staff and for someone whose join request is pending).
    org_role: Mapped[OrgRole | None] = mapped_column(enum_type(OrgRole))
    # An address the person asked to change to, until they confirm it from the mail sent there.
    pending_email: Mapped[str | None] = mapped_column(sa.String(254))
    locale: Mapped[str | None] = mapped_column(sa.String(5))
    session_version: Mapped[int] = mapped_column(default=1)
    active: Mapped[bool] = mapped_column(default=True)
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when the person deleted their account: personal data erased, the row kept for integrity.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organisation: Mapped[Organisation | None] = relationship(back_populates="members")

    def get_id(self) -> str:
        """Flask-Login id: the session version makes old cookies invalid once bumped."""
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.active

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role.value}>"
