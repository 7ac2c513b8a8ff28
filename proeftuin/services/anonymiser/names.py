"""Names: the platform's organisations and people, legal forms, titles and first names."""
from __future__ import annotations

import re
from collections.abc import Iterator

from proeftuin.services.anonymiser.base import (
    CAP,
    GENERIC_MAILBOXES,
    Candidate,
    Context,
    Token,
    adjacent,
    at_sentence_start,
    is_common,
    tokens,
)
from proeftuin.services.anonymiser.lexicon import PARTICLES, TITLES, Lexicon
from proeftuin.services.anonymiser.places import PlaceIndex

# ---- organisations -------------------------------------------------------------------------

LEGAL_FORMS = ("NV", "BV", "BVBA", "CVBA", "CV", "VZW", "SRL", "SA", "SPRL", "ASBL", "SCRL", "SCS", "Ltd",
               "LLC", "GmbH", "Inc", "bv", "nv", "vzw", "asbl", "srl")
LEGAL_FORM = re.compile(
    rf"(?P<name>(?:{CAP}[\w&'’.-]*\s+){{1,3}})(?:{'|'.join(LEGAL_FORMS)})(?![\w])")
LEGAL_SUFFIX = re.compile(rf"\s+(?:{'|'.join(LEGAL_FORMS)})\.?$")
ORG_CONTEXT = re.compile(
    r"(?i:start-up|startup|scale-up|spin-off|bedrijf|bedrijfje|firma|leverancier|onderneming|"
    r"société|entreprise|fournisseur|company|supplier|vendor|studiebureau|consultancy)\s+"
    rf"(?P<name>{CAP}[\w&'’-]*(?:\s+{CAP}[\w&'’-]*){{0,2}})"
)


def organisations(text: str, context: Context, lex: Lexicon, index: PlaceIndex) -> Iterator[Candidate]:
    """The platform's organisations by name, and names with a legal form or after "de start-up"."""
    names: set[str] = set()
    for name in context.organisations:
        name = " ".join((name or "").split())
        if len(name) >= 3 and not is_common(name, lex):
            names.add(name)
            base = LEGAL_SUFFIX.sub("", name)
            if base != name and len(base) >= 4 and not is_common(base, lex):
                names.add(base)
    for name in sorted(names, key=len, reverse=True):
        pattern = r"(?<![\w-])" + r"\s+".join(re.escape(part) for part in name.split()) + r"(?![\w-])"
        for match in re.finditer(pattern, text):
            yield Candidate(match.start(), match.end(), "organisation", "organisation.platform")
    for pattern, source in ((LEGAL_FORM, "organisation.legal_form"), (ORG_CONTEXT, "organisation.context")):
        for match in pattern.finditer(text):
            start = match.start("name")
            name_tokens = tokens(match.group("name"))
            while name_tokens and is_common(name_tokens[0].text, lex):
                name_tokens = name_tokens[1:]
            if not name_tokens:
                continue
            first = name_tokens[0].text
            if index.longest_known(first) or (source == "organisation.context" and first in lex.first_names):
                continue
            begin = start + name_tokens[0].start
            end = match.end() if source == "organisation.legal_form" else start + name_tokens[-1].end
            # After "de start-up", stop at the first ordinary word ("de start-up Sensotec Uit Gent").
            if source == "organisation.context":
                kept = [name_tokens[0]]
                for tok in name_tokens[1:]:
                    if is_common(tok.text, lex):
                        break
                    kept.append(tok)
                end = start + kept[-1].end
            yield Candidate(begin, end, "organisation", source)


# ---- people --------------------------------------------------------------------------------

CASE_SENSITIVE_TITLES = frozenset({"M.", "Mme", "Mme.", "Mlle", "Mr", "Mr.", "Mrs", "Mrs.", "Ms", "Ms.", "Miss",
                                   "Sir", "Dr", "CEO"})
_TITLES_LOWER = {t.lower() for t in TITLES if t not in CASE_SENSITIVE_TITLES and " " not in t}
_TITLE_PAIRS = {tuple(t.lower().split()) for t in TITLES if " " in t}


def _is_title(text: str, words: list[Token], i: int) -> bool:
    token = words[i]
    dotted = token.text + "." if text[token.end:token.end + 1] == "." else None
    if token.text in CASE_SENSITIVE_TITLES or (dotted and dotted in CASE_SENSITIVE_TITLES):
        return True
    lower = re.sub(r"^[ld]['’]", "", token.text.lower())  # "l'échevin"
    if dotted:
        dotted = re.sub(r"^[ld]['’]", "", dotted.lower())
    if lower in _TITLES_LOWER or (dotted and dotted in _TITLES_LOWER):
        return True
    return i > 0 and (words[i - 1].text.lower(), lower) in _TITLE_PAIRS


def _name_run(text: str, words: list[Token], i: int, lex: Lexicon, limit: int = 4) -> int:
    """How many words from `i` on form a name: capitalised words, with particles before a name word.

    A capitalised particle may start the name ("De Smet", "Van den Bossche"); a lower-case one only
    continues it ("Jan van Eyck"), so "burgemeester van Gent" has no name.
    """
    j, names = i, 0
    while j < len(words) and names < limit:
        if j > i and not adjacent(text, words[j - 1], words[j]):
            break
        token = words[j]
        if token.text.lower() in PARTICLES:
            if j == i and not token.capitalised:
                break
            k = j
            while k < len(words) and words[k].text.lower() in PARTICLES and (
                    k == j or adjacent(text, words[k - 1], words[k])):
                k += 1
            if (k < len(words) and adjacent(text, words[k - 1], words[k]) and words[k].capitalised
                    and not is_common(words[k].text, lex)):
                j = k
                continue
            break
        if token.capitalised and not is_common(token.text, lex):
            names += 1
            j += 1
            continue
        break
    return j - i if names else 0


def _digit_next_to(text: str, token: Token) -> bool:
    before = text[max(0, token.start - 3):token.start]
    after = text[token.end:token.end + 3]
    return bool(re.search(r"\d\s?$", before) or re.match(r"^\.?\s?\d", after))


def people(text: str, words: list[Token], context: Context, lex: Lexicon, index: PlaceIndex) -> Iterator[Candidate]:
    """Names of the people involved, names after a title, and first names (with their surname)."""
    # People the platform knows: the full name in any case, each part with its capital.
    parts: set[str] = set()
    for full in context.people:
        full = " ".join((full or "").split())
        if len(full) >= 3:
            pattern = r"(?<![\w-])" + r"\s+".join(re.escape(p) for p in full.split()) + r"(?![\w-])"
            for match in re.finditer(pattern, text, re.IGNORECASE):
                yield Candidate(match.start(), match.end(), "person", "person.platform")
        for part in re.split(r"[\s,]+", full):
            if len(part) >= 3 and part[0].isupper() and part.lower() not in PARTICLES and not is_common(part, lex):
                parts.add(part)
    for email in context.emails:
        local = (email or "").split("@")[0]
        # A mailbox named after an ordinary word ("gemeente@", "info@") names nobody.
        if len(local) >= 3 and local.lower() not in GENERIC_MAILBOXES and not is_common(local, lex):
            for match in re.finditer(r"(?<![\w.@-])" + re.escape(local) + r"(?![\w@-])", text, re.IGNORECASE):
                yield Candidate(match.start(), match.end(), "person", "person.platform")
    for i, token in enumerate(words):
        if token.text in parts:
            n = _name_run(text, words, i, lex) or 1
            yield Candidate(token.start, words[i + n - 1].end, "person", "person.platform")

    for i, token in enumerate(words):
        # A title and the name after it: "mevrouw Peeters", "schepen Van den Bossche", "Mme Dubois".
        if _is_title(text, words, i) and i + 1 < len(words) and _adjacent_title(text, token, words[i + 1]):
            n = _name_run(text, words, i + 1, lex)
            if n:
                run = words[i + 1:i + 1 + n]
                if not (n == 1 and index.longest_known(run[0].text)):
                    yield Candidate(run[0].start, run[-1].end, "person", "person.title")
        # A first name from the list (or two joined: "Jean-Philippe"), with the surname after it.
        if token.text not in lex.first_names and not (
                "-" in token.text and all(part in lex.first_names for part in token.text.split("-"))):
            continue
        hyphenated = text[token.end:token.end + 1] == "-" or text[token.start - 1:token.start] == "-"
        if _digit_next_to(text, token) or hyphenated:  # "12 Jan", "Sint-Jan"
            continue
        previous = words[i - 1] if i > 0 else None
        if previous is not None and previous.text in ("Sint", "Saint", "Sainte", "St", "Ste", "Sinte") \
                and adjacent(text, previous, token):
            continue
        surname = _name_run(text, words, i + 1, lex, limit=3) if i + 1 < len(words) and \
            adjacent(text, token, words[i + 1]) else 0
        ambiguous = token.text in lex.ambiguous_first_names
        start_of_sentence = at_sentence_start(text, token.start)
        if surname:
            if ambiguous and start_of_sentence:
                continue
            yield Candidate(token.start, words[i + surname].end, "person", "person.first_name")
        elif not ambiguous:
            # "Hotel Marie", "Prijs Jan": a first name after another capitalised word names something else.
            after_name = (previous is not None and previous.capitalised and adjacent(text, previous, token)
                          and not is_common(previous.text, lex) and not _is_title(text, words, i - 1))
            if not after_name:
                yield Candidate(token.start, token.end, "person", "person.first_name")


def _adjacent_title(text: str, title: Token, name: Token) -> bool:
    gap = text[title.end:name.start]
    return gap.strip(" .\u00a0") == "" and 0 < len(gap) <= 3


def challenges(text: str, context: Context) -> Iterator[Candidate]:
    for title in context.challenges:
        title = " ".join((title or "").split())
        if len(title) >= 3:
            pattern = r"(?<![\w-])" + r"\s+".join(re.escape(p) for p in title.split()) + r"(?![\w-])"
            for match in re.finditer(pattern, text, re.IGNORECASE):
                yield Candidate(match.start(), match.end(), "challenge", "challenge.platform")
