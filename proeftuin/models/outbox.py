from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from proeftuin.extensions import db
from proeftuin.models.types import UTCDateTime, utcnow


class OutboxEffect(db.Model):
    """Something that must follow a committed change (a mail, an index update), run by the worker.

    Written in the same transaction as the change, so a rolled-back change leaves no effect; the
    worker marks it done after running it, so a crash before that runs it again (effects are
    idempotent).
    """

    __tablename__ = "outbox_effect"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    payload: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    # A worker claims an effect until this moment; a worker that died lets the claim run out.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
