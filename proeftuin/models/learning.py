from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from proeftuin.enums import LearningStatus
from proeftuin.extensions import db
from proeftuin.models.types import UTCDateTime, enum_type, utcnow

_ACTIVE = sa.text("status = 'active'")


class LearningRun(db.Model):
    """One run of `flask matching learn`: a re-ranking learned from facilitators' decisions.

    The model (`embeddings.learned.LearnedRanking.to_json`) re-orders the hybrid's results of the
    engine `engine_id` for objects of `kind`; it never changes the stored vectors. `current_ndcg`
    and `learned_ndcg` are nDCG@10 on the decisions held back from training, for the ranking in use
    at the time and for this model. A refused run keeps its numbers and `reason`
    (`LearningRefusal`), without a model. At most one run is active per kind and engine.
    """

    __tablename__ = "learning_run"
    __table_args__ = (
        sa.Index("uq_learning_run_active", "kind", "engine_id", unique=True,
                 sqlite_where=_ACTIVE, postgresql_where=_ACTIVE),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    engine_id: Mapped[str] = mapped_column(sa.String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    model_json: Mapped[str | None] = mapped_column(sa.Text)
    decisions: Mapped[int] = mapped_column(default=0)
    held_back: Mapped[int] = mapped_column(default=0)
    current_ndcg: Mapped[float | None]
    learned_ndcg: Mapped[float | None]
    status: Mapped[LearningStatus] = mapped_column(enum_type(LearningStatus), index=True)
    reason: Mapped[str | None] = mapped_column(sa.String(40))
