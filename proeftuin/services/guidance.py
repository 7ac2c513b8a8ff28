"""Procedure guidance: the route texts (a data file), the route recommender and the pre-publication check.

The texts of the procurement routes, their sources and the thresholds live in
`proeftuin/data/procurement_routes.json`, which facilitators edit without code. `load_routes`
validates that file and reloads it when it changes. `recommend` turns five answers into one to
three routes with the reason for each (a short, readable rule set). `check_challenge` lists the
common flaws of a challenge text before it is published; the findings are warnings, not a block.
"""
from __future__ import annotations

import json
import logging
import os
import re
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from babel import numbers as babel_numbers
from flask import current_app, has_app_context
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from proeftuin.enums import ChallengeStatus, ProcurementRoute
from proeftuin.extensions import db
from proeftuin.models import Challenge, User
from proeftuin.policy import is_staff, owns_challenge
from proeftuin.services import InvalidInput, InvalidTransition, NotFound, audit
from proeftuin.services import challenges as challenge_service

logger = logging.getLogger(__name__)

ROUTES_FILE = Path(__file__).resolve().parent.parent / "data" / "procurement_routes.json"
LANGUAGES = ("nl", "fr", "en")
ROUTE_FIELDS = ("title", "summary", "when", "duration", "startups")
THRESHOLD_KEYS = ("eu_supplies_services_sub_central", "be_negotiated_without_publication", "be_low_value")
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")

# Statuses in which the owner may still change the route (the same as services.challenges.update).
EDITABLE_STATUSES = (ChallengeStatus.DRAFT, ChallengeStatus.PUBLISHED, ChallengeStatus.CLOSED)


class RouteFileError(ValueError):
    """The route file is missing, is not JSON, or lacks a route, a language or a source."""


# ---- the route file ------------------------------------------------------------------------

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


# ---- who may use the guidance for a challenge -----------------------------------------------

def get_for_guidance(user: User, challenge_id: int) -> Challenge:
    """The challenge, for its own municipality and for staff.

    Raises:
        NotFound: for anyone else, whether or not the challenge exists.
    """
    challenge = db.session.get(Challenge, challenge_id)
    if challenge is None or not (owns_challenge(user, challenge) or is_staff(user)):
        raise NotFound()
    return challenge


def set_route(user: User, challenge_id: int, route: ProcurementRoute | str) -> Challenge:
    """Set the challenge's procurement route (the owner, while the challenge can still be edited).

    Raises:
        NotFound: the challenge is not the user's municipality's.
        InvalidInput: the route is unknown (field `route`).
        InvalidTransition: the challenge can no longer be edited.
    """
    challenge = challenge_service.get_owned(user, challenge_id)
    try:
        route = ProcurementRoute(route)
    except ValueError:
        raise InvalidInput(_("Choose one of the procurement routes."), "route") from None
    if challenge.status not in EDITABLE_STATUSES:
        raise InvalidTransition(_("This challenge can no longer be edited."))
    previous = challenge.procurement_route
    if previous == route:
        return challenge
    challenge.procurement_route = route
    audit.record(user, "challenge.set_route", challenge, route=route.value, previous=previous.value)
    db.session.commit()
    return challenge


# ---- the recommender -----------------------------------------------------------------------

MARKET_CHOICES = ("exists", "partly", "none")
RND_CHOICES = ("yes", "no", "unsure")
MAX_ROUTES = 3
RND_MONTHS = 12  # R&D routes rarely deliver a working solution sooner

# The rules in words, shown on the page so the recommendation can be checked by a person.
RULES = (
    _l("Research and development needed: pre-commercial procurement or an innovation partnership "
       "(pre-commercial procurement first when you want to test first in a pilot)."),
    _l("Not sure whether research is needed: start with a market consultation."),
    _l("Solutions exist and no research is needed: a market consultation, then a competitive procedure "
       "with negotiation (or an open procedure when you can describe the need completely)."),
    _l("Solutions exist only in part: a market consultation, then a competitive procedure with negotiation "
       "or a competitive dialogue to adapt them."),
    _l("Nothing exists yet but no research is needed: a market consultation, a competitive dialogue or a "
       "design contest for concepts and plans."),
    _l("Estimated value below the Belgian threshold for a negotiated procedure without prior publication, "
       "and no research needed: that procedure is proposed too (first when solutions exist)."),
    _l("Estimated value at or above the European threshold: the contract must be published across the EU."),
    _l("Research, development or innovation involved: the Flemish programme for innovative procurement "
       "(PIO) may guide and co-fund it."),
)


@dataclass(frozen=True)
class Answers:
    """The questionnaire's answers."""

    market: str  # exists | partly | none: do solutions exist on the market?
    rnd: str  # yes | no | unsure: is research and development needed?
    value_eur: int  # estimated value, excluding VAT
    months: int  # months until a working solution is needed
    pilot: bool  # test first in a pilot?

    def __post_init__(self) -> None:
        if self.market not in MARKET_CHOICES:
            raise InvalidInput(_("Choose an answer."), "market")
        if self.rnd not in RND_CHOICES:
            raise InvalidInput(_("Choose an answer."), "rnd")
        if self.value_eur < 0:
            raise InvalidInput(_("Enter an amount of zero or more."), "value")
        if self.months < 1:
            raise InvalidInput(_("Enter at least one month."), "months")


@dataclass(frozen=True)
class Advice:
    route: ProcurementRoute
    reason: str


@dataclass
class Recommendation:
    routes: list[Advice] = field(default_factory=list)
    pio: bool = False
    pio_reason: str = ""
    notes: list[str] = field(default_factory=list)

    def add(self, route: ProcurementRoute, reason: str) -> None:
        if len(self.routes) < MAX_ROUTES and all(a.route != route for a in self.routes):
            self.routes.append(Advice(route, reason))

    def insert(self, index: int, route: ProcurementRoute, reason: str) -> None:
        """Put a route at a position, pushing the last one out when the list is full."""
        if any(a.route == route for a in self.routes):
            return
        self.routes.insert(min(index, len(self.routes)), Advice(route, reason))
        del self.routes[MAX_ROUTES:]


def recommend(answers: Answers, catalogue: Catalogue) -> Recommendation:
    """Recommend one to three procurement routes, in order, with the reason for each.

    Args:
        answers: the questionnaire's answers.
        catalogue: the route file, for its thresholds.

    Returns:
        The routes with reasons, whether PIO may co-fund, and points of attention.
    """
    r = Recommendation()
    low = catalogue.threshold("be_negotiated_without_publication")
    eu = catalogue.threshold("eu_supplies_services_sub_central")
    below_low = answers.value_eur < low
    R = ProcurementRoute

    if answers.rnd == "yes":
        pcp = (R.PRE_COMMERCIAL, _(
            "Research and development are needed: pre-commercial procurement buys them in phases from several "
            "companies and ends with a test in practice. Buying the solution afterwards is a separate procedure."))
        partnership = (R.INNOVATION_PARTNERSHIP, _(
            "Research and development are needed and you want to buy the result: an innovation partnership "
            "combines development and purchase in one procedure."))
        first, second = (pcp, partnership) if answers.pilot else (partnership, pcp)
        r.add(*first)
        r.add(*second)
        if answers.months < RND_MONTHS:
            r.add(R.MARKET_CONSULTATION, _(
                "You need a working solution within %(months)d months, while research usually takes longer: "
                "a market consultation shows whether that is realistic.", months=answers.months))
    elif answers.rnd == "unsure":
        r.add(R.MARKET_CONSULTATION, _(
            "You are not sure whether research is needed: a market consultation shows what exists and what "
            "still has to be developed."))
        if answers.market == "exists":
            r.add(R.COMPETITIVE_NEGOTIATION, _(
                "If the consultation confirms that solutions exist, negotiation lets you adapt them to your need."))
        else:
            r.add(R.PRE_COMMERCIAL, _(
                "If the consultation shows that research is needed, pre-commercial procurement lets several "
                "companies develop and test solutions."))
            r.add(R.COMPETITIVE_DIALOGUE, _(
                "If existing solutions can be adapted, a competitive dialogue works out the best one with the "
                "candidates."))
    elif answers.market == "exists":
        if below_low:
            r.add(R.NEGOTIATED_LOW_VALUE, _(
                "Solutions exist and the estimated value (%(value)s) is below the threshold for a negotiated "
                "procedure without prior publication (%(threshold)s): ask several companies for a quote.",
                value=euro(answers.value_eur), threshold=euro(low)))
        r.add(R.MARKET_CONSULTATION, _(
            "Solutions exist: a market consultation shows who offers them, at what price, and brings in start-ups "
            "you do not know yet."))
        r.add(R.COMPETITIVE_NEGOTIATION, _(
            "Negotiation lets candidates adapt existing solutions to your need; if you can describe the need "
            "completely, an open procedure also fits."))
    elif answers.market == "partly":
        r.add(R.MARKET_CONSULTATION, _(
            "Solutions exist only in part: a market consultation shows how far existing products get you."))
        r.add(R.COMPETITIVE_NEGOTIATION, _(
            "Existing solutions need adapting: negotiation lets candidates improve their offers."))
        r.add(R.COMPETITIVE_DIALOGUE, _(
            "If you cannot yet describe the technical means, a competitive dialogue works them out with the "
            "candidates."))
    else:  # nothing on the market, and no research needed
        r.add(R.MARKET_CONSULTATION, _(
            "Nothing exists on the market yet: check with a market consultation that no research is needed."))
        r.add(R.COMPETITIVE_DIALOGUE, _(
            "A competitive dialogue works out a new, complex solution together with the candidates."))
        r.add(R.DESIGN_CONTEST, _(
            "A design contest collects concepts or plans and rewards the best ones; the winner can receive the "
            "follow-up contract."))

    if below_low and answers.rnd != "yes" and answers.market != "exists":
        reason = (_("The estimated value (%(value)s) is below %(threshold)s: a small paid pilot can be bought "
                    "without prior publication; the purchase afterwards needs its own procedure.",
                    value=euro(answers.value_eur), threshold=euro(low)) if answers.pilot else
                  _("The estimated value (%(value)s) is below %(threshold)s: a negotiated procedure without prior "
                    "publication is possible.", value=euro(answers.value_eur), threshold=euro(low)))
        r.insert(1, R.NEGOTIATED_LOW_VALUE, reason)

    if answers.value_eur >= eu:
        r.notes.append(_("The estimated value reaches the European threshold (%(threshold)s): the contract must "
                         "be published across the EU, with the time limits of the directive.", threshold=euro(eu)))
    if answers.pilot and answers.rnd != "yes":
        r.notes.append(_("Plan the follow-up purchase when you plan the pilot: a pilot does not give the start-up "
                         "a right to the contract."))

    innovation = answers.rnd in ("yes", "unsure") or answers.market in ("partly", "none")
    if innovation:
        r.pio = True
        r.pio_reason = (_("Research and development are involved: PIO may guide and co-fund the procurement.")
                        if answers.rnd == "yes" else
                        _("The solution is (partly) new: PIO may guide the procurement and co-fund research, "
                          "testing or a pilot."))
    if not r.routes:  # the rules above always add one; this keeps the promise if they change
        r.add(R.MARKET_CONSULTATION, _("Start by exploring the market."))
    return r


# ---- the pre-publication check -------------------------------------------------------------

MIN_DEADLINE_DAYS = 28
MIN_PROBLEM_CHARS = 400
MAX_AVERAGE_SENTENCE_WORDS = 25
MIN_CRITERIA_CHARS = 20

ERROR, WARNING, ADVICE = "error", "warning", "advice"
SEVERITY_ORDER = {ERROR: 0, WARNING: 1, ADVICE: 2}
SEVERITY_LABELS = {
    ERROR: _l("Must be fixed before publishing"),
    WARNING: _l("Warning"),
    ADVICE: _l("Advice"),
}

_THINGS_NL = (r"app|apps|applicatie|webapp|platform|software|softwarepakket|dashboard|tool|website|portaal|"
              r"chatbot|databank|database|sensoren|sensor|camera's|camera|systeem")
_THINGS_FR = (r"application|appli|app|plateforme|logiciel|tableau de bord|outil|site web|site internet|portail|"
              r"chatbot|base de données|capteurs|capteur|caméras|caméra|système")
_THINGS_EN = r"app|apps|application|software|platform|dashboard|tool|website|portal|chatbot|database|sensors?|cameras?"
_FILLER = r"(?:[\w'’-]+\s+){0,3}?"  # up to three words between the article and the thing ("een slimme mobiele app")

SOLUTION_PATTERNS = tuple(re.compile(p, re.IGNORECASE) for p in (
    # Dutch: "we zoeken een app", "wij willen een platform", "we hebben een dashboard nodig"
    rf"\b(?:we|wij)\s+(?:zoeken|willen|wensen|bestellen)\s+(?:naar\s+)?een\s+{_FILLER}(?:{_THINGS_NL})\b",
    rf"\b(?:we|wij)\s+hebben\s+(?:nood\s+aan\s+)?een\s+{_FILLER}(?:{_THINGS_NL})\b",
    rf"\b(?:ontwikkel|bouw)\w*\s+(?:van\s+)?een\s+{_FILLER}(?:{_THINGS_NL})\b",
    # French: "nous cherchons une application", "nous voulons une plateforme", "nous avons besoin d'un logiciel"
    rf"\b(?:nous|on)\s+(?:cherch\w*|recherch\w*|voul\w*|souhait\w*|veu\w*)\s+une?\s+{_FILLER}(?:{_THINGS_FR})\b",
    rf"\b(?:nous\s+avons|on\s+a)\s+besoin\s+d['’]\s*une?\s+{_FILLER}(?:{_THINGS_FR})\b",
    rf"\b(?:développ|cré|construi)\w*\s+(?:d['’]\s*)?une?\s+{_FILLER}(?:{_THINGS_FR})\b",
    # English: "we need an app", "we are looking for a platform", "we want a dashboard"
    rf"\bwe\s+(?:need|want|require|seek|would\s+like)\s+(?:to\s+(?:buy|build|develop|have)\s+)?an?\s+{_FILLER}(?:{_THINGS_EN})\b",
    rf"\bwe\s+are\s+(?:looking|searching)\s+for\s+an?\s+{_FILLER}(?:{_THINGS_EN})\b",
    rf"\b(?:develop|build|create)\s+an?\s+{_FILLER}(?:{_THINGS_EN})\b",
))
MEASURABLE = re.compile(r"\d|%|\b(?:procent|percent|pour\s*cent|pourcent|helft|half|moitié|halver\w*|verdubbel\w*|"
                        r"doubl\w*|divis\w*\s+par)\b", re.IGNORECASE)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
WORD = re.compile(r"\w+(?:['’-]\w+)*")


@dataclass(frozen=True)
class Finding:
    """One flaw of a challenge text."""

    code: str
    severity: str
    message: str
    field: str | None = None

    @property
    def severity_label(self) -> str:
        return str(SEVERITY_LABELS[self.severity])


def prescribed_solution(text: str) -> str | None:
    """The first phrase that names a solution instead of a problem, if any."""
    for pattern in SOLUTION_PATTERNS:
        match = pattern.search(text)
        if match:
            return " ".join(match.group(0).split())
    return None


def average_sentence_words(text: str) -> float:
    counts = [len(WORD.findall(s)) for s in SENTENCE_END.split(text or "")]
    counts = [c for c in counts if c]
    return sum(counts) / len(counts) if counts else 0.0


def check_challenge(challenge: Challenge, today: date) -> list[Finding]:
    """The common flaws of a challenge before publication (warnings; publishing stays allowed).

    Args:
        challenge: the challenge as it is now (it is only read).
        today: the date the deadline is counted from.

    Returns:
        Findings, the most serious first, each with a code, a severity and a message in the
        reader's language.
    """
    findings: list[Finding] = []
    phrase = None
    for name in ("title", "summary", "problem"):
        phrase = prescribed_solution(getattr(challenge, name) or "")
        if phrase:
            findings.append(Finding("prescribes_solution", WARNING, _(
                "The text describes a solution (\u201c%(phrase)s\u201d). Describe the problem and let start-ups "
                "propose how to solve it.", phrase=phrase), name))
            break
    if len((challenge.evaluation_criteria or "").strip()) < MIN_CRITERIA_CHARS:
        findings.append(Finding("no_evaluation_criteria", WARNING, _(
            "No evaluation criteria. Say how you will compare proposals, and keep the criteria fixed once "
            "published."), "evaluation_criteria"))
    if challenge.deadline is None:
        findings.append(Finding("no_deadline", WARNING, _(
            "No deadline for proposals. Start-ups plan their time: give a date at least %(days)d days away.",
            days=MIN_DEADLINE_DAYS), "deadline"))
    else:
        days = (challenge.deadline - today).days
        if days < 0:
            findings.append(Finding("deadline_passed", ERROR, _(
                "The deadline has passed. Set a new date, at least %(days)d days away.", days=MIN_DEADLINE_DAYS),
                "deadline"))
        elif days < MIN_DEADLINE_DAYS:
            findings.append(Finding("deadline_too_short", WARNING, ngettext(
                "The deadline is only %(num)d day away. Give start-ups at least %(days)d days to answer.",
                "The deadline is only %(num)d days away. Give start-ups at least %(days)d days to answer.",
                days, days=MIN_DEADLINE_DAYS), "deadline"))
    if not MEASURABLE.search(challenge.desired_outcome or ""):
        findings.append(Finding("outcome_not_measurable", ADVICE, _(
            "The desired outcome has nothing measurable. Add a number or a percentage, for example fewer "
            "complaints or a shorter waiting time."), "desired_outcome"))
    problem = (challenge.problem or "").strip()
    if len(problem) < MIN_PROBLEM_CHARS:
        findings.append(Finding("problem_too_short", ADVICE, _(
            "The problem description is short (%(count)d characters). Say who has the problem, how often, and "
            "what was tried before: aim for at least %(min)d characters.", count=len(problem),
            min=MIN_PROBLEM_CHARS), "problem"))
    average = average_sentence_words(f"{problem}\n{challenge.desired_outcome or ''}")
    if average > MAX_AVERAGE_SENTENCE_WORDS:
        findings.append(Finding("long_sentences", ADVICE, _(
            "The sentences are long (%(average)d words on average). Plain language helps start-ups and "
            "translation: aim for %(max)d words or fewer.", average=round(average),
            max=MAX_AVERAGE_SENTENCE_WORDS), "problem"))
    if challenge.budget_min is None and challenge.budget_max is None:
        findings.append(Finding("no_budget", ADVICE, _(
            "No budget range. Even a rough range helps start-ups decide whether to answer."), "budget_max"))
    return sorted(findings, key=lambda f: SEVERITY_ORDER[f.severity])
