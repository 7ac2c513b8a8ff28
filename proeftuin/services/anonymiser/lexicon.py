"""Word lists of the anonymiser, read once from proeftuin/data/.

- first names (anonymiser_first_names.txt), titles (below) and particles, for the person recogniser;
- places the Municipality table does not hold (anonymiser_places.txt) and the former municipalities
  of the 2025 mergers; `table_places()` reads the municipality CSVs (the table's own source) for
  code that runs without a database (the bench);
- ordinary capitalised words (anonymiser_common_words.txt) that are never a name.

A trailing "*" in a list marks a word that is also an ordinary word: it needs context.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent.parent / "data"

# Titles and functions written before a name. Matched as whole words; those ending in "." include it.
TITLES = (
    # nl
    "mevrouw", "mevr.", "mevr", "mw.", "meneer", "mijnheer", "heer", "dhr.", "dhr", "juffrouw",
    "dokter", "dr.", "prof.", "professor", "ir.", "ing.", "schepen", "burgemeester", "directeur",
    "directrice", "voorzitter", "raadslid", "gemeenteraadslid", "secretaris",
    "diensthoofd", "coördinator", "projectleider", "collega", "minister", "gouverneur",
    # fr
    "monsieur", "madame", "mademoiselle", "M.", "Mme", "Mme.", "Mlle", "échevin", "échevine",
    "bourgmestre", "président", "présidente", "conseiller",
    "conseillère", "docteur", "maître",
    # en
    "Mr", "Mr.", "Mrs", "Mrs.", "Ms", "Ms.", "Miss", "Sir", "Dr", "mayor", "alderman", "councillor",
    "director", "chair", "chairman", "chairwoman", "manager", "CEO", "colleague",
)

# Name particles: lower case inside a name ("Jan van der Berg"), capitalised in Flemish surnames
# ("De Smet", "Van den Bossche").
PARTICLES = frozenset({
    "van", "de", "der", "den", "het", "ter", "ten", "te", "vanden", "vander", "vande", "von", "le", "la",
    "les", "du", "des", "da", "di", "del", "dos", "d'", "d’", "el", "al", "ben", "bin", "op", "in", "t", "'t",
})

# Municipality names that are also ordinary words in nl, fr or en: they need context.
AMBIGUOUS_PLACES = frozenset({
    "As", "Boom", "Peer", "Ham", "Lint", "Mol", "Bree", "Hove", "Lede", "Niel", "Putte", "Halle", "Hal",
    "Lier", "Geel", "Bever", "Essen", "Lille", "Vorst", "Forest", "Jette", "Brecht", "Wellen", "Alken",
    "Landen", "Halen", "Menen", "Mesen", "Voeren", "Damme", "Tienen", "Herne", "Balen", "Zele", "Olen",
    "Asse", "Meise", "Retie", "Malle", "Staden", "Melle", "Hamme", "Laarne", "Lennik", "Zulte", "Pelt",
    "Genk", "Heers", "Nazareth", "Brakel", "Gavere", "Temse", "Lo",
})


@dataclass(frozen=True)
class Lexicon:
    first_names: frozenset[str]
    ambiguous_first_names: frozenset[str]
    places: frozenset[str]
    ambiguous_places: frozenset[str]
    common_words: frozenset[str]
    common_lower: frozenset[str]


def _lines(name: str) -> list[str]:
    text = (DATA_DIR / name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _starred(name: str) -> tuple[set[str], set[str]]:
    plain, starred = set(), set()
    for line in _lines(name):
        if line.endswith("*"):
            starred.add(line[:-1])
        else:
            plain.add(line)
    return plain | starred, starred


@cache
def former_municipalities() -> frozenset[str]:
    """The municipalities merged on 2025-01-01 (old names: still used in every address and text)."""
    with open(DATA_DIR / "municipalities_flanders_mergers_2025.csv", encoding="utf-8", newline="") as handle:
        return frozenset(row["old_name_nl"] for row in csv.DictReader(handle))


@cache
def table_places() -> frozenset[str]:
    """Dutch and French names of the municipality CSVs that fill the Municipality table."""
    names: set[str] = set()
    for filename in ("municipalities_flanders.csv", "municipalities_brussels.csv"):
        with open(DATA_DIR / filename, encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                names.update(n for n in (row["name_nl"], row["name_fr"]) if n)
    return frozenset(names)


@cache
def lexicon() -> Lexicon:
    first, ambiguous_first = _starred("anonymiser_first_names.txt")
    places, ambiguous_places = _starred("anonymiser_places.txt")
    common = frozenset(_lines("anonymiser_common_words.txt"))
    return Lexicon(
        first_names=frozenset(first),
        ambiguous_first_names=frozenset(ambiguous_first),
        places=frozenset(places | former_municipalities()),
        ambiguous_places=frozenset(ambiguous_places | AMBIGUOUS_PLACES),
        common_words=common,
        common_lower=frozenset(w.lower() for w in common),
    )
