"""Who may use which route: every view declares its principals with `@allow`.

`check_every_route_declares_access` runs at start-up, so a route without a declaration
cannot ship; tests walk the same declarations against a policy table (SECURITY.md T1).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, abort, request
from flask_login import current_user

from proeftuin.enums import Role
from proeftuin.extensions import login_manager
from proeftuin.policy import STAFF_ROLES

logger = logging.getLogger(__name__)

ANYONE = "anyone"  # anonymous visitors included
SIGNED_IN = "signed_in"  # any authenticated user
STAFF = STAFF_ROLES  # facilitators and admins (`proeftuin.policy`)


def allow(*principals: str | Role) -> Callable:
    """Declare and enforce who may call a view.

    Args:
        principals: `ANYONE`, `SIGNED_IN`, or one or more `Role` members. Ownership of the
            object is checked by the service the view calls (NotFound for others).
    """
    if not principals:
        raise ValueError("allow() needs at least one principal")

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if ANYONE in principals:
                return view(*args, **kwargs)
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if SIGNED_IN in principals or current_user.role in principals:
                return view(*args, **kwargs)
            logger.warning(
                "authz.denied user=%s role=%s route=%s",
                current_user.id,
                current_user.role.value,
                request.endpoint,
            )
            abort(403)

        wrapped.access = frozenset(p.value if isinstance(p, Role) else p for p in principals)
        return wrapped

    return decorator


def check_every_route_declares_access(app: Flask) -> None:
    """Refuse to start when a view function lacks an `@allow` declaration."""
    missing = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        and not hasattr(app.view_functions[rule.endpoint], "access")
    ]
    if missing:
        raise RuntimeError(f"routes without an access declaration: {sorted(missing)}")
