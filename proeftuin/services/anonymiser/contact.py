"""E-mail addresses (obfuscated forms included), street addresses in nl/fr/en, and postcodes."""
from __future__ import annotations

import re
from collections.abc import Iterator

from proeftuin.services.anonymiser.base import (
    CAP,
    GENERIC_MAILBOXES,
    TLDS,
    TOKEN,
    WORD_CHARS,
    Candidate,
    Context,
    digits,
    is_common,
    tokens,
)
from proeftuin.services.anonymiser.lexicon import Lexicon
from proeftuin.services.anonymiser.places import PlaceIndex

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_AT_MARK = r"(?:\s*(?:\(at\)|\[at\]|\{at\}|<at>|\(a\)|\[@\]|\(@\)|\(apenstaartje\)|\(arobase\))\s*)"
_AT_WORD = r"(?:\s+(?:at|AT|apenstaartje|arobase|chez)\s+)"
_DOT_MARK = r"(?:\s*(?:\(dot\)|\[dot\]|\{dot\}|\(punt\)|\[punt\]|\(point\)|\[point\]|\(\.\)|\[\.\])\s*)"
_DOT_WORD = r"(?:\s+(?:dot|DOT|punt|point)\s+)"
_LABEL = r"[\w-]+"
OBFUSCATED_EMAIL = re.compile(
    rf"(?<![\w.+-])(?P<local>[\w.+-]+)(?P<at>{_AT_MARK}|{_AT_WORD})(?P<domain>{_LABEL}"
    rf"(?:(?:{_DOT_MARK}|{_DOT_WORD}|\.){_LABEL})*(?:{_DOT_MARK}|{_DOT_WORD}|\.)(?P<tld>{'|'.join(TLDS)}))(?![\w])",
    re.IGNORECASE,
)


def emails(text: str, context: Context, lex: Lexicon) -> Iterator[Candidate]:
    """E-mail addresses, written plainly or as "jan at gent dot be", "jan(at)gent.be", "jan [at] gent [dot] be"."""
    for match in EMAIL.finditer(text):
        yield Candidate(match.start(), match.end(), "email", "email")
    known = {e.split("@")[0].lower() for e in context.emails}
    for match in OBFUSCATED_EMAIL.finditer(text):
        at, local, domain = match.group("at"), match.group("local"), match.group("domain")
        if "@" in local:
            continue
        marked = bool(re.fullmatch(_AT_MARK, at)) or bool(re.search(rf"{_DOT_MARK}|{_DOT_WORD}", domain))
        # "look at vlaanderen.be" is no address: a spelled-out "at" with a real dot needs a local part
        # that looks like a mailbox (a name, a known user, a generic mailbox, or dots and digits).
        name_like = (local.lower() in known or local.lower() in GENERIC_MAILBOXES
                     or local.capitalize() in lex.first_names or re.search(r"[.\d_+-]", local))
        if domain.lower().startswith("www") and not marked:
            continue
        if marked or name_like:
            yield Candidate(match.start(), match.end(), "email", "email.obfuscated")


# ---- addresses and postcodes ---------------------------------------------------------------

NL_STREET_SUFFIX = ("straat", "laan", "plein", "steenweg", "weg", "dreef", "lei", "kaai", "kade", "markt",
                    "plaats", "singel", "vest", "dijk", "baan", "hof", "park", "pad", "wegel", "berg", "dries",
                    "gracht", "steeg", "heide", "veld", "weide", "hoek", "kouter", "meers", "dok",
                    "straatje", "laantje", "pleintje", "boulevard", "square")
NL_STREET_WORDS = ("Markt", "Plein", "Laan", "Straat", "Steenweg", "Dreef", "Kaai", "Lei", "Weg", "Vest",
                   "Dijk", "Baan", "Ring", "Square", "Boulevard", "Kouter", "Dries")
HOUSE_NUMBER = (r"\d{1,4}(?:\s?[a-zA-Z](?![\w']))?(?:-\d{1,4})?"
                r"(?:\s*,?\s*(?:bus|bte\.?|boîte|boite|bt\.?|b\.|box)\s*\d{1,4}[a-zA-Z]?)?(?![\w]|[.,]\d)")
NAME_WORD = rf"{CAP}{WORD_CHARS}*\.?"
NL_ADDRESS = re.compile(
    rf"(?:{NAME_WORD}\s+){{0,3}}"
    rf"(?:{CAP}{WORD_CHARS}*?(?:{'|'.join(NL_STREET_SUFFIX)})|{'|'.join(NL_STREET_WORDS)})"
    rf"(?:\s+(?:op|naar|van)\s+{CAP}{WORD_CHARS}*)?"
    rf"\s+{HOUSE_NUMBER}"
)
FR_STREET = ("rue", "avenue", "av.", "chaussée", "chée", "place", "boulevard", "bd", "square", "quai", "impasse",
             "allée", "chemin", "route", "clos", "drève", "rond-point", "galerie", "passage", "parvis",
             "esplanade", "sentier", "voie", "cours")
_FR_NAME = (rf"(?:(?:de\s+la|de\s+l['’]|de|du|des|d['’]|la|le|les|l['’])\s*)?{CAP}{WORD_CHARS}*"
            rf"(?:\s+(?:(?:de\s+la|de\s+l['’]|de|du|des|d['’]|la|le|les|l['’]|et|sur|aux?)\s*)?{CAP}{WORD_CHARS}*){{0,4}}")
_FR_TYPE = rf"(?i:{'|'.join(re.escape(s) for s in FR_STREET)})"
FR_ADDRESS = re.compile(rf"(?<![\w]){_FR_TYPE}\s+{_FR_NAME},?\s+{HOUSE_NUMBER}")
FR_ADDRESS_NUMBER_FIRST = re.compile(rf"(?<![\w.,])\d{{1,4}}[a-z]?,?\s+{_FR_TYPE}\s+{_FR_NAME}")
EN_ADDRESS = re.compile(
    rf"(?<![\w.,])\d{{1,4}}[a-zA-Z]?\s+(?:{CAP}{WORD_CHARS}*\s+){{1,3}}"
    r"(?:Street|St\.|Road|Rd\.|Avenue|Ave\.|Lane|Square|Place|Drive|Boulevard|Way|Court|Terrace|Close)(?![\w])"
)


def addresses(text: str, lex: Lexicon) -> Iterator[Candidate]:
    """Street and house number (with "bus"/"boîte"), in the Dutch, French and English orders."""
    for pattern, source in ((NL_ADDRESS, "address.nl"), (FR_ADDRESS, "address.fr"),
                            (FR_ADDRESS_NUMBER_FIRST, "address.fr"), (EN_ADDRESS, "address.en")):
        for match in pattern.finditer(text):
            value = match.group(0)
            number = re.search(r"\d{1,4}", value[::-1])
            house = int(number.group(0)[::-1]) if number else 0
            if source == "address.nl" and 1900 <= house <= 2100 and not re.search(r"(?i)bus|bte|boîte", value):
                continue  # "Rotterdam 2024", "Ring 2030": a year, not a house number
            # Capitalised ordinary words before the street ("In", "De") are not part of it.
            start = match.start()
            words = tokens(value)
            for k, word in enumerate(words[:-1]):
                if not is_common(word.text, lex) or source != "address.nl":
                    break
                start = match.start() + words[k + 1].start
            yield Candidate(start, match.end(), "address", source)


POSTCODE = re.compile(r"(?<![\w.,/€$+-])(?:B-\s?)?[1-9]\d{3}(?![\w]|[.,/:-]\d|\s?%)")
POSTCODE_CONTEXT = re.compile(r"(?i:postcode|postnummer|code postal|post code|zip|CP)\s*:?\s*$")
NOT_BEFORE_POSTCODE = re.compile(
    r"(?i:artikel|art\.|article|nr\.?|nummer|numéro|n°|no\.|€|eur|euro|jaar|year|année|ab|kb|ar|wet|loi|"
    r"lot|perceel|fase|versie|version|iso|en|nbn|pagina|page|p\.)\s*$")
PLACE_RUN = re.compile(rf"{CAP}{WORD_CHARS}*(?:\s(?:sur|lez|op|aan)\s{CAP}{WORD_CHARS}*)?")


def postcodes(text: str, places: PlaceIndex, lex: Lexicon) -> Iterator[Candidate]:
    """Four-digit postcodes (1000-9999) next to a place name, or after the word "postcode".

    "9000 Gent": a postcode and a place (the place is yielded too when it is not a known one);
    "9000 inwoners", "artikel 1000", "in 2026 werd" are left alone.
    """
    for match in POSTCODE.finditer(text):
        before = text[max(0, match.start() - 30):match.start()]
        if POSTCODE_CONTEXT.search(before):
            yield Candidate(match.start(), match.end(), "postcode", "postcode.context")
            continue
        if NOT_BEFORE_POSTCODE.search(before):
            continue
        after = text[match.end():]
        spaces = len(after) - len(after.lstrip(" \u00a0"))
        if not 1 <= spaces <= 2:
            continue
        run = PLACE_RUN.match(after, spaces)
        if run is None:
            continue
        name = run.group(0)
        known = places.longest_known(name)
        if known:
            yield Candidate(match.start(), match.end(), "postcode", "postcode.place")
            continue
        year = 1900 <= int(digits(match.group(0))[-4:]) <= 2100
        first = name.split()[0].split("-")[0]
        if year or is_common(first, lex) or first in lex.first_names:
            continue
        yield Candidate(match.start(), match.end(), "postcode", "postcode.place")
        yield Candidate(match.end() + spaces, match.end() + spaces + len(name), "place", "postcode.place")
    # A known place followed by its postcode in brackets: "Gent (9000)", "Namur (B-5000)".
    for match in re.finditer(r"(?<=[\w])\s?\((?:B-)?([1-9]\d{3})\)", text):
        last = TOKEN.findall(text[max(0, match.start() - 40):match.start()])
        if last and places.longest_known(last[-1]):
            yield Candidate(match.start(1), match.end(1), "postcode", "postcode.after_place")
