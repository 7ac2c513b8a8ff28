"""The route file: the texts of the procurement routes, their sources and the thresholds live in
`proeftuin/data/procurement_routes.json`, which facilitators edit without code. This module
validates that file into a `Catalogue` (listing every problem, not only the first) and reloads it
when it changes, keeping the last valid version when an edit breaks it.
"""
from __future__ import annotations

import json
import logging
import os
import re
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from babel import numbers as babel_numbers
from flask import current_app, has_app_context
from flask_babel import format_decimal

from proeftuin.enums import ProcurementRoute

logger = logging.getLogger(__name__)

ROUTES_FILE = Path(__file__).resolve().parents[2] / "data" / "procurement_routes.json"
LANGUAGES = ("nl", "fr", "en")
ROUTE_FIELDS = ("title", "summary", "when", "duration", "startups")
THRESHOLD_KEYS = ("eu_supplies_services_sub_central", "be_negotiated_without_publication", "be_low_value")
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


class RouteFileError(ValueError):
    """The route file is missing, is not JSON, or lacks a route, a language or a source."""


@dataclass(frozen=True)
class Source:
    title: str
    url: str


@dataclass(frozen=True)
class Threshold:
    key: str
    amount_eur: int
    valid_from: date
    legal_basis: str
    label: dict[str, str]
    note: dict[str, str]
    source: Source


@dataclass(frozen=True)
class RouteGuide:
    route: ProcurementRoute
    texts: dict[str, dict[str, str]]
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class Catalogue:
    """The validated content of the route file."""

    checked_on: date
    checked_by: str
    thresholds: dict[str, Threshold]
    pio_url: str
    pio_texts: dict[str, dict[str, str]]
    pio_sources: tuple[Source, ...]
    routes: dict[ProcurementRoute, RouteGuide]

    def threshold(self, key: str) -> int:
        return self.thresholds[key].amount_eur

    def text(self, route: ProcurementRoute | str, name: str, locale: str) -> str:
        """A route's text in the locale (English when the locale is unknown), thresholds filled in."""
        guide = self.routes[ProcurementRoute(route)]
        raw = guide.texts[name][_language(locale)]
        return PLACEHOLDER.sub(lambda m: euro(self.threshold(m.group(1)), _language(locale)), raw)

    def pio_text(self, name: str, locale: str) -> str:
        return self.pio_texts[name][_language(locale)]


def _language(locale: str | None) -> str:
    code = (locale or "").split("_")[0].split("-")[0].lower()
    return code if code in LANGUAGES else "en"


def euro(amount: int, locale: str | None = None) -> str:
    """An amount in the reader's number format (or the given locale's), e.g. '140.000 €' in Dutch."""
    if locale:
        return babel_numbers.format_decimal(amount, format="#,##0", locale=locale) + " €"
    return format_decimal(amount, format="#,##0") + " €"


def _is_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _texts(raw: Any, where: str, errors: list[str]) -> dict[str, str]:
    if not isinstance(raw, dict):
        errors.append(f"{where}: expected texts in {', '.join(LANGUAGES)}")
        return {}
    missing = [lang for lang in LANGUAGES if not isinstance(raw.get(lang), str) or not raw[lang].strip()]
    if missing:
        errors.append(f"{where}: missing text in {', '.join(missing)}")
    return {lang: raw[lang].strip() for lang in LANGUAGES if lang not in missing}


def _source(raw: Any, where: str, errors: list[str]) -> Source | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("title"), str) or not raw["title"].strip():
        errors.append(f"{where}: a source needs a title")
        return None
    if not _is_url(raw.get("url")):
        errors.append(f"{where}: a source needs an http(s) url")
        return None
    return Source(title=raw["title"].strip(), url=raw["url"])


def _sources(raw: Any, where: str, errors: list[str]) -> tuple[Source, ...]:
    if not isinstance(raw, list) or not raw:
        errors.append(f"{where}: at least one source is needed")
        return ()
    found = [_source(item, f"{where} source {i + 1}", errors) for i, item in enumerate(raw)]
    return tuple(s for s in found if s is not None)


def _date(raw: Any, where: str, errors: list[str]) -> date:
    try:
        return date.fromisoformat(raw)
    except (TypeError, ValueError):
        errors.append(f"{where}: expected a date as YYYY-MM-DD")
        return date.min


def validate_catalogue(raw: Any) -> Catalogue:
    """Check the parsed route file and build the catalogue.

    Args:
        raw: the parsed JSON document.

    Returns:
        The catalogue with every route, its texts in nl, fr and en, and its sources.

    Raises:
        RouteFileError: listing every problem found, not only the first.
    """
    if not isinstance(raw, dict):
        raise RouteFileError("the route file must hold a JSON object")
    errors: list[str] = []
    checked_on = _date(raw.get("checked_on"), "checked_on", errors)

    thresholds: dict[str, Threshold] = {}
    raw_thresholds = raw.get("thresholds") if isinstance(raw.get("thresholds"), dict) else {}
    for key in THRESHOLD_KEYS:
        item = raw_thresholds.get(key)
        where = f"thresholds.{key}"
        if not isinstance(item, dict):
            errors.append(f"{where}: missing")
            continue
        amount = item.get("amount_eur")
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            errors.append(f"{where}: amount_eur must be a positive whole number of euro")
            amount = 0
        source = _source(item.get("source"), where, errors)
        thresholds[key] = Threshold(
            key=key, amount_eur=amount, valid_from=_date(item.get("valid_from"), f"{where}.valid_from", errors),
            legal_basis=str(item.get("legal_basis") or ""),
            label=_texts(item.get("label"), f"{where}.label", errors),
            note=_texts(item.get("note"), f"{where}.note", errors),
            source=source or Source("", ""),
        )

    pio = raw.get("pio") if isinstance(raw.get("pio"), dict) else {}
    if not _is_url(pio.get("url")):
        errors.append("pio: an http(s) url is needed")
    pio_texts = {name: _texts(pio.get(name), f"pio.{name}", errors) for name in ("title", "text")}
    pio_sources = _sources(pio.get("sources"), "pio", errors)

    raw_routes = raw.get("routes") if isinstance(raw.get("routes"), dict) else {}
    unknown = sorted(set(raw_routes) - ProcurementRoute.values())
    if unknown:
        errors.append(f"routes: unknown routes {', '.join(unknown)}")
    routes: dict[ProcurementRoute, RouteGuide] = {}
    for route in ProcurementRoute:
        item = raw_routes.get(route.value)
        if not isinstance(item, dict):
            errors.append(f"routes.{route.value}: missing")
            continue
        texts = {name: _texts(item.get(name), f"routes.{route.value}.{name}", errors) for name in ROUTE_FIELDS}
        for name, by_language in texts.items():
            for lang, text in by_language.items():
                for key in PLACEHOLDER.findall(text):
                    if key not in THRESHOLD_KEYS:
                        errors.append(f"routes.{route.value}.{name}.{lang}: unknown threshold {{{key}}}")
        routes[route] = RouteGuide(route=route, texts=texts,
                                   sources=_sources(item.get("sources"), f"routes.{route.value}", errors))
    if errors:
        raise RouteFileError("; ".join(errors))
    return Catalogue(
        checked_on=checked_on, checked_by=str(raw.get("checked_by") or ""), thresholds=thresholds,
        pio_url=pio["url"], pio_texts=pio_texts, pio_sources=pio_sources, routes=routes,
    )


def read_catalogue(path: str | os.PathLike) -> Catalogue:
    """Read and validate one route file (no cache).

    Raises:
        RouteFileError: when the file cannot be read, is not JSON or is incomplete.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
    except OSError as exc:
        raise RouteFileError(f"cannot read {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise RouteFileError(f"{path} is not valid JSON: line {exc.lineno}, column {exc.colno}") from exc
    return validate_catalogue(raw)


_cache: dict[str, tuple[int, Catalogue]] = {}
_cache_lock = threading.Lock()


def routes_path() -> Path:
    """The route file in use: `PROCUREMENT_ROUTES_FILE` when configured, else the bundled one."""
    configured = current_app.config.get("PROCUREMENT_ROUTES_FILE") if has_app_context() else None
    return Path(configured) if configured else ROUTES_FILE


def load_routes(path: str | os.PathLike | None = None) -> Catalogue:
    """The validated catalogue, re-read when the file changed since the last call.

    An edit that breaks the file is logged and the last good version stays in use, so a typo
    does not take the guidance page down; `flask guidance check-routes` reports the problem.

    Raises:
        RouteFileError: when no valid version of the file was ever loaded.
    """
    target = str(path or routes_path())
    try:
        stamp = os.stat(target).st_mtime_ns
    except OSError:
        stamp = -1
    with _cache_lock:
        cached = _cache.get(target)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            catalogue = read_catalogue(target)
        except RouteFileError:
            if cached is None:
                raise
            logger.exception("guidance.route_file_invalid path=%s; keeping the last valid version", target)
            _cache[target] = (stamp, cached[1])
            return cached[1]
        _cache[target] = (stamp, catalogue)
        logger.info("guidance.route_file_loaded path=%s", target)
        return catalogue
