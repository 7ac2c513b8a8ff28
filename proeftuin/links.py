"""Absolute links for mail and feeds, built from the configured public URL, never from the request.

A request's Host or X-Forwarded-Host header is chosen by the client; a link built from it can point a
password-reset token at an attacker's site. Every absolute link therefore starts from `PUBLIC_URL`.
"""
from __future__ import annotations

from flask import current_app, url_for


def public_url(endpoint: str, **values: object) -> str:
    """The absolute URL of `endpoint` under the configured `PUBLIC_URL`.

    Args:
        endpoint: a Flask endpoint name such as ``"auth.reset_password"``.
        **values: the endpoint's URL values.

    Returns:
        ``PUBLIC_URL`` followed by the endpoint's path (and query string).
    """
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    return base + url_for(endpoint, **values)


def public_path(path: str) -> str:
    """An absolute URL for a local path such as ``/challenges/3``."""
    return current_app.config["PUBLIC_URL"].rstrip("/") + "/" + path.lstrip("/")
