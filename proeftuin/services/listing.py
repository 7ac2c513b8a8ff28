"""Parsing of list filters from a query string against allowlists (unknown values -> 400)."""
from __future__ import annotations

from collections.abc import Mapping

from proeftuin.services import InvalidInput


def one_of(args: Mapping[str, str], name: str, allowed: set[str] | frozenset[str]) -> str | None:
    value = args.get(name, "").strip()
    if not value:
        return None
    if value not in allowed:
        raise InvalidInput(f"unknown value for {name}")
    return value


def page_args(args: Mapping[str, str], default_per_page: int, max_per_page: int) -> tuple[int, int]:
    try:
        page = int(args.get("page", "1") or 1)
        per_page = int(args.get("per_page", str(default_per_page)) or default_per_page)
    except ValueError as exc:
        raise InvalidInput("page and per_page must be numbers") from exc
    if page < 1 or per_page < 1 or per_page > max_per_page:
        raise InvalidInput("page or per_page out of range")
    return page, per_page


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
