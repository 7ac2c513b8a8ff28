"""BM25 (bm25s) with Snowball stemming and stop words per language, over a mixed-language corpus.

One BM25 sub-index is kept per document language; a query is stemmed with its own language's
stemmer and scored against every sub-index. A Dutch query finds (almost) nothing in an English
document: that is expected, the dense part of the ranker covers other languages.
"""
from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_DUTCH, STOPWORDS_EN, STOPWORDS_FRENCH

logger = logging.getLogger(__name__)

LANGUAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "en": ("english", tuple(STOPWORDS_EN)),
    "nl": ("dutch", tuple(STOPWORDS_DUTCH)),
    "fr": ("french", tuple(STOPWORDS_FRENCH)),
}
FALLBACK_LANGUAGE = "en"
# The same pattern as bm25s and scikit-learn: words of two or more word characters. French
# elisions (l'eau, d'énergie) are split off by the apostrophe, which is not a word character.
_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def language_of(code: str | None) -> str:
    """Map a language code ("nl", "NL", "nl-BE", None) to one with a stemmer; others become English."""
    short = (code or FALLBACK_LANGUAGE).lower().replace("_", "-").split("-")[0]
    return short if short in LANGUAGES else FALLBACK_LANGUAGE


@cache
def _stemmer(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(LANGUAGES[language][0])


@cache
def _stopwords(language: str) -> frozenset[str]:
    return frozenset(LANGUAGES[language][1])


def surface_words(text: str, language: str) -> list[str]:
    """Lower-cased words of a text without its language's stop words, in order."""
    stop = _stopwords(language_of(language))
    return [w for w in _TOKEN.findall(text.lower()) if w not in stop]


def analyze(text: str, language: str, bigrams: bool = False) -> list[str]:
    """The BM25 tokens of a text: lower-cased words, stop words removed, Snowball-stemmed.

    Args:
        text: the text.
        language: its language code ("nl", "fr", "en"; others are treated as English).
        bigrams: also add a token "a_b" for every two adjacent stems (after stop-word removal), so
            that phrases ("captur_co2", "smart_system") count on top of their words.

    Returns:
        The stems (then the bigrams), repeats kept (they are term frequencies).
    """
    language = language_of(language)
    stems = _stemmer(language).stemWords(surface_words(text, language))
    if bigrams:
        stems += [f"{a}_{b}" for a, b in zip(stems, stems[1:], strict=False)]
    return stems


@dataclass(frozen=True)
class Bm25Params:
    """BM25 parameters (bm25s "lucene" variant)."""

    k1: float = 1.5
    b: float = 0.75


@dataclass
class _SubIndex:
    """One language's documents in a bm25s index, in position order."""

    positions: np.ndarray  # the ranker's document positions, one per bm25s document
    model: bm25s.BM25
    doc_freq: dict[str, int] = field(default_factory=dict)

    def idf(self, stem: str) -> float:
        n = len(self.positions)
        df = self.doc_freq.get(stem, 0)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))


class LexicalIndex:
    """BM25 sub-indexes per document language over documents at positions 0..n-1.

    The caller (the ranker) owns positions; tokens are kept per position so that a change
    rebuilds only the sub-index of the changed document's language.
    """

    def __init__(self, params: Bm25Params | None = None, bigrams: bool = False) -> None:
        self.params = params or Bm25Params()
        self.bigrams = bigrams
        self._tokens: dict[int, list[str]] = {}
        self._language: dict[int, str] = {}
        self._subs: dict[str, _SubIndex] = {}
        self._dirty: set[str] = set()
        self.size = 0

    # ---- building ----------------------------------------------------------------------

    def set_document(self, position: int, text: str, language: str) -> None:
        """Add or replace the document at `position`."""
        language = language_of(language)
        old = self._language.get(position)
        if old is not None:
            self._dirty.add(old)
        self._tokens[position] = analyze(text, language, self.bigrams)
        self._language[position] = language
        self._dirty.add(language)
        self.size = max(self.size, position + 1)

    def remove_document(self, position: int) -> None:
        """Forget the document at `position` (its score becomes 0)."""
        old = self._language.pop(position, None)
        self._tokens.pop(position, None)
        if old is not None:
            self._dirty.add(old)

    def move_document(self, source: int, target: int) -> None:
        """Move a document to another position (the ranker compacts positions on removal)."""
        language = self._language.pop(source)
        self._tokens[target] = self._tokens.pop(source)
        self._language[target] = language
        self._dirty.add(language)

    def resize(self, size: int) -> None:
        """Set the number of positions (after compaction)."""
        self.size = size

    def _refresh(self) -> None:
        for language in sorted(self._dirty):
            positions = np.array(sorted(p for p, lang in self._language.items() if lang == language), dtype=np.int64)
            if len(positions) == 0:
                self._subs.pop(language, None)
                continue
            corpus = [self._tokens[int(p)] or [""] for p in positions]
            model = bm25s.BM25(k1=self.params.k1, b=self.params.b)
            model.index(corpus, show_progress=False)
            doc_freq = Counter(stem for tokens in corpus for stem in set(tokens))
            self._subs[language] = _SubIndex(positions=positions, model=model, doc_freq=dict(doc_freq))
        self._dirty.clear()

    # ---- querying ----------------------------------------------------------------------

    def languages(self) -> list[str]:
        """The document languages present."""
        self._refresh()
        return sorted(self._subs)

    def language_mask(self, language: str) -> np.ndarray:
        """A boolean array over positions: True where the document has `language`."""
        self._refresh()
        mask = np.zeros(self.size, dtype=bool)
        sub = self._subs.get(language_of(language))
        if sub is not None:
            mask[sub.positions] = True
        return mask

    def scores(self, query: str | Mapping[str, float], language: str) -> np.ndarray:
        """BM25 scores of every position for a query.

        Args:
            query: the query text, or stems with weights.
            language: the query's language; its stemmer is used against every sub-index.

        Returns:
            float32 array of length `size`; 0 where nothing matched or no document is.
        """
        self._refresh()
        if isinstance(query, str):
            weights: Mapping[str, float] = Counter(analyze(query, language, self.bigrams))
        else:
            weights = query
        out = np.zeros(self.size, dtype=np.float32)
        for sub in self._subs.values():
            out[sub.positions] = _weighted_scores(sub.model, weights)
        return out

    def tokens(self, position: int) -> list[str]:
        """The stems of the document at `position`."""
        return self._tokens.get(position, [])

    def idf(self, stem: str, language: str) -> float:
        """BM25 idf of a stem in one language's sub-index (0 when that language has no documents)."""
        self._refresh()
        sub = self._subs.get(language_of(language))
        return sub.idf(stem) if sub is not None else 0.0


def _weighted_scores(model: bm25s.BM25, weights: Mapping[str, float]) -> np.ndarray:
    """Sum of the precomputed BM25 columns of the query stems, each times its weight."""
    num_docs = model.scores["num_docs"]
    vocab = model.vocab_dict
    ids = [(vocab[stem], w) for stem, w in weights.items() if stem in vocab and stem and w > 0]
    if not ids:
        return np.zeros(num_docs, dtype=np.float32)
    indptr, indices, data = model.scores["indptr"], model.scores["indices"], model.scores["data"]
    chunks_idx, chunks_val = [], []
    for token_id, w in ids:
        start, end = indptr[token_id], indptr[token_id + 1]
        chunks_idx.append(indices[start:end])
        chunks_val.append(data[start:end] * w)
    return np.bincount(np.concatenate(chunks_idx), weights=np.concatenate(chunks_val),
                       minlength=num_docs).astype(np.float32)


def key_terms(query: str, doc: str, language_q: str, language_d: str, top: int = 8,
              idf: Mapping[str, float] | None = None) -> list[str]:
    """Terms the query and the document share, as readable surface forms, most telling first.

    Words match when their stems match (the document's stemmer on both sides when the
    languages agree) or, across languages, when the words are identical (names, acronyms,
    international words).

    Args:
        query: the query text.
        doc: the document text.
        language_q: the query's language.
        language_d: the document's language.
        top: how many terms at most.
        idf: optional stem -> idf weights (from the index) to rank the terms; without it longer,
            less frequent words rank first.

    Returns:
        Surface forms as they appear in the document, at most `top`.
    """
    language_q, language_d = language_of(language_q), language_of(language_d)
    doc_words = surface_words(doc, language_d)
    query_words = surface_words(query, language_q)
    if not doc_words or not query_words:
        return []
    stem_d = _stemmer(language_d).stemWords
    doc_stems = stem_d(doc_words)
    if language_q == language_d:
        query_keys = set(stem_d(query_words))
        doc_keys = doc_stems
    else:
        query_keys = set(query_words) | set(stem_d(query_words))
        doc_keys = doc_stems
    surface: dict[str, Counter[str]] = {}
    counts: Counter[str] = Counter()
    for word, stem in zip(doc_words, doc_keys, strict=True):
        if (stem in query_keys or (language_q != language_d and word in query_keys)) and not word.isdigit():
            surface.setdefault(stem, Counter())[word] += 1
            counts[stem] += 1

    def weight(stem: str) -> float:
        if idf is not None:
            return idf.get(stem, 0.0) * (1.0 + math.log(counts[stem]))
        return (1.0 + math.log(counts[stem])) * min(len(stem), 12) / (1.0 + 0.1 * counts[stem])

    ranked = sorted(surface, key=lambda stem: (-weight(stem), stem))
    return [surface[stem].most_common(1)[0][0] for stem in ranked[:top]]


