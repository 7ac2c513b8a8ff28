"""How a text is cut into passages for the encoder, and its content hash."""
from __future__ import annotations

import hashlib
import logging
import re
import unicodedata

logger = logging.getLogger(__name__)

#: Most words in one passage. Passages explain matches (which sentences matched); ranking uses the
#: whole text, which matched better on dev than passages pooled by max or mean (`ranking.RankingParams`).
MAX_WORDS = 100

# A sentence ends at . ! or ? followed by space and an upper-case letter, digit, quote or bullet
# ("e.g. a" does not end one), or at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀ-ÖØ-Þ\d\"'“‘(\[•\-–*])|\s*\n+\s*")
_BULLET = re.compile(r"^[•\-–*·]+\s*")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Unicode NFC, whitespace collapsed, stripped: the form that is hashed."""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def content_hash(text: str) -> str:
    """The sha256 hex digest of the normalised text.

    Args:
        text: any text.

    Returns:
        64 hex characters; equal for texts that differ only in whitespace or Unicode composition.
    """
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()


def sentences(text: str) -> list[str]:
    """Split a text into sentences (lines count as sentence ends; bullets are dropped)."""
    parts = (_BULLET.sub("", part.strip()) for part in _SENTENCE_END.split(text))
    return [_SPACE.sub(" ", part).strip() for part in parts if part and part.strip(" •-–*·")]


def passages(text: str, max_words: int = MAX_WORDS) -> list[str]:
    """Cut a text into passages of whole sentences, each at most `max_words` words.

    Sentences are packed greedily in order; a sentence longer than `max_words` is cut into pieces
    of `max_words` words. A short text is one passage. An empty text gives one empty passage so
    that every object has at least one vector.

    Args:
        text: the text.
        max_words: the most words in one passage.

    Returns:
        The passages, in text order.
    """
    out: list[str] = []
    current: list[str] = []
    count = 0
    for sentence in sentences(text):
        words = sentence.split()
        if len(words) > max_words:
            if current:
                out.append(" ".join(current))
                current, count = [], 0
            for start in range(0, len(words), max_words):
                out.append(" ".join(words[start:start + max_words]))
            continue
        if current and count + len(words) > max_words:
            out.append(" ".join(current))
            current, count = [], 0
        current.append(sentence)
        count += len(words)
    if current:
        out.append(" ".join(current))
    return out or [normalise(text)]
