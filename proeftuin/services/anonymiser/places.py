"""Places: municipalities and sub-municipalities with their adjectives, neighbourhoods, web domains."""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from proeftuin.services.anonymiser.base import (
    CAP,
    TLDS,
    WORD_CHARS,
    Candidate,
    Context,
    Token,
    adjacent,
    at_sentence_start,
    is_common,
)
from proeftuin.services.anonymiser.lexicon import Lexicon

ALLOWED_PHRASES = re.compile(
    r"Brussels Hoofdstedelijk Gewest|Brusselse Hoofdstedelijke Regering|Brussels Gewest|"
    r"Région de Bruxelles-Capitale|Région bruxelloise|Brussels-Capital Region|Brussels Capital Region|"
    r"Brussels Region|(?:[Pp]rovincie|[Pp]rovince(?: of| d[e'’])?)\s*\w+|Vlaams-Brabant|Brabant wallon|"
    r"Waals-Brabant|Oost-Vlaanderen|West-Vlaanderen|Flandre orientale|Flandre occidentale|"
    r"East Flanders|West Flanders"
)
NEIGHBOURHOOD_CONTEXT = re.compile(
    r"(?<![\w-])(?i:wijk|woonwijk|buurt|deelgemeente|deelgemeentes|district|quartier|neighbourhood|neighborhood|"
    r"parochie|dorp|village|hameau|gehucht)\s+(?:(?:de|het|van|du|de la|des|the|of)\s+)?"
    rf"(?P<name>{CAP}{WORD_CHARS}*(?:\s+{CAP}{WORD_CHARS}*)?)"
)
NEIGHBOURHOOD_BEFORE = re.compile(
    rf"(?P<name>{CAP}{WORD_CHARS}*)(?:-|\s+)(?:neighbourhood|neighborhood|district|wijk)(?![\w])")
SAINT_PLACE = re.compile(rf"(?<![\w-])(?:Sint|Sinte|Saint|Sainte|St|Ste)-{CAP}{WORD_CHARS}*")


class PlaceIndex:
    """Place names and their adjectives and demonyms, looked up by the words of a text."""

    def __init__(self, names: Iterable[str], ambiguous: frozenset[str]) -> None:
        self.surface: dict[str, str] = {}
        self.ambiguous = ambiguous
        self.max_words = 1
        for name in names:
            name = name.strip()
            if len(name) < 2:
                continue
            self.surface.setdefault(name, name)
            self.max_words = max(self.max_words, len(name.split()))
            if name in ambiguous or len(name) < 4 or " " in name:
                continue
            for variant in _variants(name):
                self.surface.setdefault(variant, name)

    def longest_known(self, words: str) -> str | None:
        parts = words.split()
        for n in range(min(len(parts), self.max_words), 0, -1):
            candidate = " ".join(parts[:n])
            if candidate in self.surface and self.surface[candidate] not in self.ambiguous:
                return candidate
        return None


def _variants(name: str) -> set[str]:
    """Dutch adjectives and demonyms of a place: Gentse, Antwerpse, Brugse, Leuvenaars, Gents."""
    out = {name + "se", name + "s", name + "enaar", name + "enaars", name + "naar", name + "naars",
           name + "aar", name + "aars", name + "'s", name + "’s"}
    if name.endswith("en"):
        out |= {name[:-2] + "se", name[:-2] + "s"}
    if name.endswith("e"):
        out |= {name[:-1] + "se", name[:-1] + "s"}
    return out


FRENCH_DEMONYMS = {"Bruxellois": "Bruxelles", "Bruxelloise": "Bruxelles", "Gantois": "Gand", "Gantoise": "Gand",
                   "Anversois": "Anvers", "Anversoise": "Anvers", "Liégeois": "Liège", "Liégeoise": "Liège",
                   "Namurois": "Namur", "Namuroise": "Namur", "Louvaniste": "Louvain", "Montois": "Mons",
                   "Montoise": "Mons", "Carolo": "Charleroi", "Aalsterse": "Aalst", "Aalstenaar": "Aalst",
                   "Oostendse": "Oostende", "Oostendenaar": "Oostende", "Hasselaar": "Hasselt", "Genkse": "Genk",
                   "Brusselaar": "Brussel", "Brusselaars": "Brussel", "Brusselse": "Brussel"}


def place_index(context: Context, lex: Lexicon) -> PlaceIndex:
    index = PlaceIndex([*lex.places, *context.places], lex.ambiguous_places)
    for variant, name in FRENCH_DEMONYMS.items():
        index.surface.setdefault(variant, name)
    return index


def places(text: str, words: list[Token], index: PlaceIndex, context: Context, lex: Lexicon) -> Iterator[Candidate]:
    """Known places (municipalities, sub-municipalities, their adjectives), neighbourhoods, Sint-X."""
    i = 0
    while i < len(words):
        token = words[i]
        if not token.capitalised:
            i += 1
            continue
        found = None
        # Longest run of adjacent words first ("De Panne", "Brugse Poort").
        for n in range(min(index.max_words, len(words) - i), 0, -1):
            run = words[i:i + n]
            if any(not adjacent(text, a, b) for a, b in zip(run, run[1:], strict=False)):
                continue
            surface = text[run[0].start:run[-1].end]
            if surface in index.surface:
                found = (run, surface, index.surface[surface])
                break
        if found is None and "-" in token.text:
            # "Gent-Zuid", "Antwerpen-Noord": a known place with a part added.
            head = token.text.split("-")[0]
            if head in index.surface and index.surface[head] not in index.ambiguous and len(head) >= 4:
                found = ([token], token.text, index.surface[head])
        if found is None:
            i += 1
            continue
        run, surface, name = found
        start, end = run[0].start, run[-1].end
        if surface.endswith(("'s", "’s")) and surface not in lex.places:
            end -= 2
        if name in index.ambiguous:
            previous = words[i - 1] if i > 0 else None
            after_capital = previous is not None and previous.capitalised and adjacent(text, previous, token)
            if at_sentence_start(text, start) or after_capital:
                i += len(run)
                continue
        yield Candidate(start, end, "place", "place.gazetteer")
        i += len(run)
    for match in NEIGHBOURHOOD_CONTEXT.finditer(text):
        name = match.group("name")
        first = name.split()[0]
        if not is_common(first, lex):
            if len(name.split()) > 1 and is_common(name.split()[1], lex):
                name = first
            yield Candidate(match.start("name"), match.start("name") + len(name), "place", "place.neighbourhood")
    for match in NEIGHBOURHOOD_BEFORE.finditer(text):
        if not is_common(match.group("name"), lex) and not at_sentence_start(text, match.start()):
            yield Candidate(match.start("name"), match.end("name"), "place", "place.neighbourhood")
    for match in SAINT_PLACE.finditer(text):
        yield Candidate(match.start(), match.end(), "place", "place.saint")


DOMAIN = re.compile(rf"(?<![@\w.-])(?:https?://)?(?:[\w-]+\.)+(?:{'|'.join(TLDS)})(?![\w-])(?:/[^\s,;)]*)?(?<![.,])")


CITY_HOST_LABELS = frozenset({"stad", "gemeente", "ocmw", "ville", "commune", "cpas", "city", "mail", "info"})


def domains(text: str, index: PlaceIndex, context: Context) -> Iterator[Candidate]:
    """Web addresses of the platform's organisations and of places (www.gent.be, stad.gent, leuven.be)."""
    slugs = {re.sub(r"[^\w]+", "-", n.lower()).strip("-") for n, canon in index.surface.items()
             if n == canon and canon not in index.ambiguous and len(n) >= 3}
    hosts = {h.lower().removeprefix("www.") for h in context.domains if h}
    for match in DOMAIN.finditer(text):
        value = match.group(0).lower()
        host = re.sub(r"^https?://", "", value).split("/")[0].removeprefix("www.")
        labels = host.split(".")
        if host in hosts or any(host.endswith("." + h) for h in hosts):
            yield Candidate(match.start(), match.end(), "organisation", "organisation.domain")
        elif any(label in slugs for label in labels[:-1]) or (
                len(labels) == 2 and labels[-1] in slugs and labels[0] in CITY_HOST_LABELS):
            # leuven.be, www.gent.be, and a city's own top-level domain: stad.gent (not any site on .brussels)
            yield Candidate(match.start(), match.end(), "place", "place.domain")
