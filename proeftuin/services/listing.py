"""Parsing of list filters from a query string against allowlists (unknown values -> 400).

Every integer read from a query string or a form's raw values goes through `parse_int`, so no
number the database cannot hold reaches a query: ids are INTEGER columns (at most 2**31 - 1 on
PostgreSQL, whatever SQLite would take), offsets and counts at most a BIGINT (2**63 - 1).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from proeftuin.services import InvalidInput

MAX_INT = 2**63 - 1  # the largest BIGINT (and SQLite INTEGER): offsets, counts
MAX_ID = 2**31 - 1  # the largest INTEGER, the type of every id column on PostgreSQL
_DIGITS = re.compile(r"[0-9]{1,19}")  # ASCII only: int() also reads "١٢" or " 12_3 "


def parse_int(text: str | None, name: str = "value", *, minimum: int = 0, maximum: int = MAX_INT) -> int:
    """A whole number between `minimum` and `maximum` as written in a URL or a form.

    Raises:
        InvalidInput: not plain digits (an optional leading minus), or out of range.
    """
    raw = (text or "").strip()
    digits = raw[1:] if raw.startswith("-") else raw
    if not _DIGITS.fullmatch(digits):
        raise InvalidInput(f"{name} must be a number")
    value = int(raw)
    if not minimum <= value <= maximum:
        raise InvalidInput(f"{name} out of range")
    return value


def int_arg(args: Mapping[str, str], name: str, default: int | None = None, *, minimum: int = 0,
            maximum: int = MAX_INT) -> int | None:
    """The integer argument `name`, `default` when absent or empty.

    Raises:
        InvalidInput: not a number, or out of range.
    """
    raw = args.get(name, "")
    if raw is None or not str(raw).strip():
        return default
    return parse_int(str(raw), name, minimum=minimum, maximum=maximum)


def parse_id(text: str | None, name: str = "id") -> int:
    """An id as written in a URL or a form: a positive number that fits an id column.

    Raises:
        InvalidInput: anything else.
    """
    return parse_int(text, name, minimum=1, maximum=MAX_ID)


def id_arg(args: Mapping[str, str], name: str) -> int | None:
    """The id argument `name` (`?suggestion=12`), None when absent or empty.

    Raises:
        InvalidInput: not an id.
    """
    return int_arg(args, name, None, minimum=1, maximum=MAX_ID)


def int_list(values: Iterable[str], name: str = "ids") -> list[int]:
    """Ids as sent by checkboxes (`?ids=1&ids=2`), each a positive number that fits an id column.

    Raises:
        InvalidInput: one of them is not.
    """
    return [parse_id(v, name) for v in values]


def one_of(args: Mapping[str, str], name: str, allowed: set[str] | frozenset[str]) -> str | None:
    value = args.get(name, "").strip()
    if not value:
        return None
    if value not in allowed:
        raise InvalidInput(f"unknown value for {name}")
    return value


def page_args(args: Mapping[str, str], default_per_page: int, max_per_page: int) -> tuple[int, int]:
    """`page` and `per_page`, bounded so that the page's offset fits the database.

    Raises:
        InvalidInput: not numbers, or out of range.
    """
    per_page = int_arg(args, "per_page", default_per_page, minimum=1, maximum=max_per_page)
    page = int_arg(args, "page", 1, minimum=1, maximum=MAX_INT // max(per_page, 1))
    return page, per_page


def like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
