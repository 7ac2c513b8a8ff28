"""Audit trail: one row per change, added to the caller's transaction."""
from __future__ import annotations

import logging

from proeftuin.extensions import db
from proeftuin.models import AuditEvent, User

logger = logging.getLogger(__name__)


def record(actor: User | None, action: str, obj: object | None = None, **detail: object) -> None:
    """Stage an audit event in the current session (committed with the change it describes)."""
    # A view may pass `current_user` itself: record the user it stands for, not the proxy's class.
    unwrap = getattr(obj, "_get_current_object", None)
    obj = unwrap() if callable(unwrap) else obj
    object_type = type(obj).__name__ if obj is not None else "none"
    object_id = getattr(obj, "id", None)
    db.session.add(
        AuditEvent(
            actor_id=actor.id if actor is not None else None,
            organisation_id=actor.organisation_id if actor is not None else None,
            action=action,
            object_type=object_type,
            object_id=object_id if isinstance(object_id, int) else None,
            detail={k: v for k, v in detail.items() if v is not None},
        )
    )
    logger.info(
        "audit %s %s %s by %s", action, object_type, object_id, actor.id if actor else None
    )
