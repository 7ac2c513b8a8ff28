"""Helpers for views that call the matching engine."""
from __future__ import annotations

import logging
from collections.abc import Callable

from flask import abort, current_app

from proeftuin.extensions import db
from proeftuin.services import InvalidInput

logger = logging.getLogger(__name__)


def semantic_results(search: Callable[[], list]) -> tuple[list, bool]:
    """Run an engine query; an engine failure shows a notice instead of a 500.

    Returns:
        The results and whether matching was unavailable.
    """
    try:
        return search(), False
    except InvalidInput:
        abort(400)
    except Exception:
        db.session.rollback()
        logger.exception("matching unavailable")
        return [], True


def search_rate_limit() -> str:
    return current_app.config["SEARCH_RATE_LIMIT"]
