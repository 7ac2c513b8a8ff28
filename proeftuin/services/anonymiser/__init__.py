"""The anonymiser: finds spans of personal data in a text and replaces them by placeholders.

One job, one facade (`detect`, `replace`, `anonymise`, `warnings`, `segments`, `marked`); the
recognisers behind it (numbers.py, contact.py, places.py, names.py, gathered by recognisers.py) and
the word lists (lexicon.py, proeftuin/data/anonymiser_*.txt) are not used directly. It knows nothing of the
database: the caller passes a `Context` with the names the platform knows (the people involved, the
organisations, the municipalities). Measured by `python -m bench.anonymiser_bench`.

Kinds: person, email, phone, address, postcode, national_number, company_number, iban,
organisation, place, and challenge (the title of a challenge on the platform).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from proeftuin.services.anonymiser.base import Context, at_sentence_start, is_common, tokens
from proeftuin.services.anonymiser.lexicon import TITLES, lexicon
from proeftuin.services.anonymiser.recognisers import candidates

__all__ = ["KINDS", "PLACEHOLDERS", "Context", "Detection", "Segment", "anonymise", "detect", "placeholder",
           "marked", "replace", "segments", "warnings"]

logger = logging.getLogger(__name__)

PLACEHOLDERS = {
    "person": _l("[name]"),
    "email": _l("[e-mail address]"),
    "phone": _l("[phone number]"),
    "address": _l("[address]"),
    "postcode": _l("[postcode]"),
    "national_number": _l("[national register number]"),
    "company_number": _l("[company number]"),
    "iban": _l("[account number]"),
    "organisation": _l("[organisation]"),
    "place": _l("[place]"),
    "challenge": _l("[challenge]"),
}
KINDS = tuple(PLACEHOLDERS)
# Which kind wins when two recognisers claim the same span (the longer span wins first).
PRIORITY = ("email", "iban", "national_number", "company_number", "phone", "address", "postcode", "challenge",
            "organisation", "person", "place")
LANGUAGES = ("nl", "fr", "en")
TITLE_WORDS = frozenset(t.lower().rstrip(".") for t in TITLES)


@dataclass(frozen=True)
class Detection:
    """A span of personal data: text[start:end] is of this kind; `source` names the recogniser."""

    start: int
    end: int
    kind: str
    text: str
    source: str


@dataclass(frozen=True)
class Segment:
    """A piece of a text for highlighting.

    `level` is None (plain text), "replaced" (a placeholder), "found" (personal data still in the
    text) or "warning" (a word that looks like a name); `kind` says which kind for the first two.
    """

    text: str
    level: str | None = None
    kind: str | None = None


def detect(text: str, context: Context | None = None) -> list[Detection]:
    """The spans of personal data in `text`, in order, without overlaps.

    Args:
        text: any text (question, answer, title).
        context: names the platform knows; without it only the built-in recognisers run.

    Returns:
        Detections sorted by position; where recognisers overlap, the longest span wins, then the
        kind that comes first in `PRIORITY`.
    """
    if not text:
        return []
    found = candidates(text, context or Context())
    found.sort(key=lambda c: (-(c.end - c.start), PRIORITY.index(c.kind), c.start))
    kept: list[Detection] = []
    for c in found:
        if c.end <= c.start or any(c.start < d.end and d.start < c.end for d in kept):
            continue
        kept.append(Detection(c.start, c.end, c.kind, text[c.start:c.end], c.source))
    return sorted(kept, key=lambda d: d.start)


def placeholder(kind: str, language: str) -> str:
    with force_locale(language):
        return str(PLACEHOLDERS[kind])


def replace(text: str, detections: list[Detection], language: str) -> str:
    """`text` with every detection replaced by its kind's placeholder in `language`."""
    labels = {kind: placeholder(kind, language) for kind in KINDS}
    out, last = [], 0
    for d in sorted(detections, key=lambda d: d.start):
        out += [text[last:d.start], labels[d.kind]]
        last = d.end
    out.append(text[last:])
    return "".join(out)


def anonymise(text: str, context: Context | None, language: str) -> str:
    """Replace every span of personal data in `text` by a placeholder in `language`."""
    return replace(text, detect(text, context), language)


def _placeholder_kinds() -> dict[str, str]:
    """Every placeholder as written in any of the languages, and its kind."""
    labels: dict[str, str] = {}
    for language in LANGUAGES:
        for kind in KINDS:
            labels.setdefault(placeholder(kind, language), kind)
    return labels


def _placeholders_in(text: str) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    for label, kind in sorted(_placeholder_kinds().items(), key=lambda item: -len(item[0])):
        start = text.find(label)
        while start >= 0:
            end = start + len(label)
            if not any(s < end and start < e for s, e, _ in spans):
                spans.append((start, end, kind))
            start = text.find(label, end)
    return spans


def warnings(text: str, detections: list[Detection] | None = None) -> list[tuple[int, int]]:
    """Words that look like a name but were not detected: capitalised, not at a sentence start, not
    an ordinary word (nor in capitals only, like GDPR), or written in camel case (a brand: CityFlow).
    """
    lex = lexicon()
    taken = [(d.start, d.end) for d in detections or []] + [(s, e) for s, e, _ in _placeholders_in(text)]
    out = []
    for token in tokens(text):
        word = token.text.removesuffix("'s").removesuffix("’s")
        if any(s < token.end and token.start < e for s, e in taken):
            continue
        camel = any(a.islower() and b.isupper() for a, b in zip(word, word[1:], strict=False))
        if not camel and (not word[0].isupper() or at_sentence_start(text, token.start)):
            continue
        head = word.split("-")[0]
        if (head.isupper() or any(ch.isdigit() for ch in word) or is_common(word, lex)
                or word.lower() in TITLE_WORDS):
            continue
        out.append((token.start, token.start + len(word)))
    return out


def _split(text: str, marks: list[tuple[int, int, str, str | None]]) -> list[Segment]:
    out, last = [], 0
    for start, end, level, kind in sorted(marks):
        if start < last:
            continue
        if start > last:
            out.append(Segment(text[last:start]))
        out.append(Segment(text[start:end], level, kind))
        last = end
    if last < len(text):
        out.append(Segment(text[last:]))
    return out


def segments(text: str, context: Context | None = None) -> list[Segment]:
    """A text to publish, cut for highlighting: its placeholders, the personal data the detector
    still finds in it, and the words that look like names."""
    found = detect(text, context)
    marks = [(s, e, "replaced", kind) for s, e, kind in _placeholders_in(text)]
    marks += [(d.start, d.end, "found", d.kind) for d in found]
    marks += [(s, e, "warning", None) for s, e in warnings(text, found)]
    return _split(text, marks)


def marked(text: str, context: Context | None = None) -> list[Segment]:
    """An original text cut for highlighting: every span the anonymiser replaces, with its kind."""
    return _split(text, [(d.start, d.end, "found", d.kind) for d in detect(text, context)])
