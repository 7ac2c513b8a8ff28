"""Helpers for views that call the matching engine."""
from __future__ import annotations

import logging
from collections.abc import Callable

from flask import abort, current_app

from proeftuin.extensions import db
from proeftuin.services import InvalidInput, NoGoodMatch

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


def described_results(search: Callable[[], list]) -> tuple[list, bool, str | None]:
    """Run a "describe what you need" search.

    Returns:
        The results, whether matching was unavailable, and why nothing is shown when the
        description found no real evidence ("short": too short to search, "thin": nothing fits it
        well), else None.
    """
    try:
        return search(), False, None
    except NoGoodMatch as exc:
        return [], False, "short" if "few words" in str(exc) else "thin"
    except InvalidInput:
        abort(400)
    except Exception:
        db.session.rollback()
        logger.exception("matching unavailable")
        return [], True, None


def search_rate_limit() -> str:
    return current_app.config["SEARCH_RATE_LIMIT"]
