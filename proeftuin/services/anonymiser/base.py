"""What the recognisers share: the candidate and context types, words, sentence starts."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from proeftuin.services.anonymiser.lexicon import Lexicon

UPPER = "A-ZÀ-ÖØ-ÞĀ-ĀĆČĎĐĘĚĞİŁŃŇŐŒŘŚŞŠŢŤŰŹŻŽ"
CAP = f"[{UPPER}]"
WORD_CHARS = r"[\w'’-]"
# A word: letters, digits, apostrophes and inner hyphens ("Sint-Martens-Latem", "D'Hondt").
TOKEN = re.compile(r"[^\W\d_](?:[\w'’-]*[^\W_])?")
SENTENCE_END = ".!?:;\n•·–—*([\"“«"


@dataclass(frozen=True)
class Candidate:
    start: int
    end: int
    kind: str
    source: str


@dataclass
class Context:
    """What the platform knows about the text: names that identify, beyond the built-in lists.

    Attributes:
        people: full names of the users involved (the asker, the organisation's members, ...).
        emails: their e-mail addresses (the part before the @ is also a name).
        organisations: names of organisations on the platform (start-ups, companies).
        places: names of municipalities (the Municipality table), added to the built-in places.
        challenges: titles that identify (the challenge a question is about).
        domains: web hosts of the organisations ("sensotec.be").
    """

    people: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    organisations: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    challenges: list[str] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    text: str

    @property
    def capitalised(self) -> bool:
        return self.text[0].isupper()


def tokens(text: str) -> list[Token]:
    return [Token(m.start(), m.end(), m.group(0)) for m in TOKEN.finditer(text)]


def at_sentence_start(text: str, start: int) -> bool:
    """True at the start of the text, of a line, after end punctuation, a bullet or an opening quote."""
    before = text[:start].rstrip(" \t")
    return not before or before[-1] in SENTENCE_END


def adjacent(text: str, left: Token, right: Token) -> bool:
    """Two tokens separated by spaces only (one line, no punctuation)."""
    gap = text[left.end:right.start]
    return 0 < len(gap) <= 2 and gap.strip(" \u00a0") == ""


def is_common(word: str, lex: Lexicon) -> bool:
    return word in lex.common_words or word.lower() in lex.common_lower


def digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


TLDS = ("be", "com", "org", "net", "eu", "nl", "fr", "de", "lu", "uk", "io", "info", "biz", "co", "gent",
        "brussels", "vlaanderen", "edu", "gov", "int", "app", "dev", "tech", "online")
GENERIC_MAILBOXES = frozenset({"info", "contact", "secretariaat", "onthaal", "admin", "support", "hello",
                               "mail", "office", "post", "bestuur", "secretariat", "accueil", "communication"})

