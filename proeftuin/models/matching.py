from __future__ import annotations

from datetime import datetime

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from proeftuin.enums import SuggestionStatus
from proeftuin.extensions import db
from proeftuin.models.challenge import Challenge
from proeftuin.models.profile import StartupProfile
from proeftuin.models.types import UTCDateTime, enum_type, utcnow


class Embedding(db.Model):
    """The passage vectors of one challenge or profile for one engine.

    The database is the source of truth; every process's index is a cache rebuilt from these rows.
    `seq` is the index version at which the row last changed (the watermark processes follow);
    a row without vectors is a tombstone: the object left the index.
    """

    __tablename__ = "embedding"
    __table_args__ = (sa.UniqueConstraint("object_type", "object_id", "engine_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    object_type: Mapped[str] = mapped_column(sa.String(20))
    object_id: Mapped[int]
    engine_id: Mapped[str] = mapped_column(sa.String(120))
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    dim: Mapped[int]
    n_passages: Mapped[int]
    vectors: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    seq: Mapped[int] = mapped_column(sa.BigInteger, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    def matrix(self) -> np.ndarray:
        """The passage vectors as a float32 array (n_passages, dim)."""
        if self.vectors is None:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.frombuffer(self.vectors, dtype=np.float32).reshape(self.n_passages, self.dim)


class IndexState(db.Model):
    """One row per engine: the version every change bumps (the watermark)."""

    __tablename__ = "index_state"

    engine_id: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    version: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    rebuilt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MatchSuggestion(db.Model):
    """A challenge <-> start-up pair the engine proposes, for a facilitator to review."""

    __tablename__ = "match_suggestion"
    __table_args__ = (sa.UniqueConstraint("challenge_id", "profile_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(sa.ForeignKey("challenge.id", ondelete="CASCADE"), index=True)
    profile_id: Mapped[int] = mapped_column(sa.ForeignKey("startup_profile.id", ondelete="CASCADE"), index=True)
    score: Mapped[float]
    rank: Mapped[int]
    components: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    explanation: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    engine_id: Mapped[str] = mapped_column(sa.String(120))
    challenge_hash: Mapped[str] = mapped_column(sa.String(64))
    profile_hash: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[SuggestionStatus] = mapped_column(
        enum_type(SuggestionStatus), default=SuggestionStatus.PROPOSED, index=True
    )
    reviewer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    reason_code: Mapped[str | None] = mapped_column(sa.String(40))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    challenge: Mapped[Challenge] = relationship()
    profile: Mapped[StartupProfile] = relationship()
