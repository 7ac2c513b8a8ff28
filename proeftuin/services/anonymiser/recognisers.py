"""The recognisers: each finds candidate spans of one family of personal data in a text.

Numbers with a checksum go through python-stdnum (national register and BIS numbers, enterprise
numbers, IBANs) and phone numbers through phonenumbers (region BE); the rest are patterns and word
lists (lexicon.py) for e-mail addresses (obfuscated forms included), street addresses in Dutch,
French and English, postcodes, places, organisations and person names. Overlaps between the
candidates are settled by `detect` in the package's facade, not here.
"""
from __future__ import annotations

from proeftuin.services.anonymiser.base import Candidate, Context, tokens
from proeftuin.services.anonymiser.contact import addresses, emails, postcodes
from proeftuin.services.anonymiser.lexicon import lexicon
from proeftuin.services.anonymiser.names import challenges, organisations, people
from proeftuin.services.anonymiser.numbers import company_numbers, ibans, national_numbers, phones
from proeftuin.services.anonymiser.places import ALLOWED_PHRASES, domains, place_index, places


def allowed_spans(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in ALLOWED_PHRASES.finditer(text)]


def candidates(text: str, context: Context) -> list[Candidate]:
    """Every recogniser's candidates, overlapping."""
    lex = lexicon()
    index = place_index(context, lex)
    words = tokens(text)
    found: list[Candidate] = []
    found += emails(text, context, lex)
    found += ibans(text)
    found += national_numbers(text)
    found += company_numbers(text)
    found += phones(text)
    found += addresses(text, lex)
    found += postcodes(text, index, lex)
    found += domains(text, index, context)
    found += places(text, words, index, context, lex)
    found += organisations(text, context, lex, index)
    found += people(text, words, context, lex, index)
    found += challenges(text, context)
    allowed = allowed_spans(text)
    return [c for c in found
            if not (c.kind == "place" and any(a <= c.start and c.end <= b for a, b in allowed))]
