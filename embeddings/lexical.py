"""BM25 with Snowball stemming and stop words per language, over a mixed-language corpus, kept live.

One BM25 sub-index is kept per document language; a query is stemmed with its own language's
stemmer and scored against every sub-index. A Dutch query finds (almost) nothing in an English
document: that is expected, the dense part of the ranker covers other languages.

Scores are bm25s' "lucene" variant (k1 = 1.5, b = 0.75 by default): for a query stem t with weight w
(its count in the query) and a document d of the same language,
``w * idf(t) * tf / (tf + k1 * (1 - b + b * dl / avgdl))`` with ``idf = log(1 + (N - df + 0.5) / (df + 0.5))``,
N, df and avgdl taken over the live documents of d's language, and an empty document counted with
length 1 (bm25s indexes it as [""]). Note that bm25s' "lucene" term-frequency part has no (k1 + 1)
factor; it would scale every score by the same 2.5 and change no ranking.

How it is kept live (the index must stay usable at 100,000 documents and more): the former code
rebuilt a language's whole bm25s index after any change (0.8 s at 5,000 documents, ~45 s at
100,000, for one upsert then one rank). Now every sub-index is an exact incremental BM25:

- statistics of the live documents (N, the sum of lengths for avgdl, df per stem) are updated on
  every change, and a score is computed at query time from them and the raw term frequencies, so a
  change moves every score exactly as a rebuild would;
- postings (slot, tf) sit in immutable, term-sorted segments merged like Lucene's (sizes decrease
  geometrically towards the newest, a posting is rewritten O(log n) times in all, no merge beyond
  `MAX_MERGE` postings so that no change pauses for long), plus the documents added since the
  last query, which that query writes into a small segment first;
- a query reads only the postings of its stems (one ``searchsorted`` per segment), so its cost is
  the search itself; removed documents are tombstones (slot position -1) dropped when their
  segment is rewritten (at the latest once half of it is dead), and slots are renumbered once dead
  ones outnumber the live ones;
- the values are computed in the same floating-point order and precision as bm25s' eager score
  matrix, so the scores are identical to a rebuild bit for bit (tests/embeddings/test_incremental.py
  compares them with bm25s after random changes; the dev-set runs of ``python -m embeddings.evaluate``
  are identical for every query and method).

Why this rather than the alternatives (figures: ``python -m bench.lexical_live``, one upsert then one
rank of the hybrid ranker, 60-word documents, 2-core development machine, bench/results/lexical_live.json):

- the former rebuild: 0.67 s / 3.8 s / 22 s at 5,000 / 20,000 / 100,000 documents; the incremental
  ranker: 1.4 ms / 4.0 ms / 54 ms (ratios 470 / 950 / 410; 150 to 950 over runs on a busy machine),
  of which the lexical side is 0.9 / 2.8 / 17 ms; at 100,000 a rank with no change costs 50 ms, mostly
  the dense product over every document, so an upsert adds a few milliseconds. ``index()`` is slower
  than the former one (22 s against 15 s at 100,000: postings are built at once), but the former
  paid a full bm25s build on its first rank on top.
- a bm25s main index plus a small delta merged in the background: bm25s bakes idf and avgdl into
  its score matrix, so a delta changes the scores of the whole main index, and a deletion or a
  replacement needs a rebuild to be exact; it only moves the rebuild off the query path.
- tantivy (PyPI ``tantivy``, installs as a wheel): BM25 with k1 fixed at 1.2 and document lengths
  quantised to one byte, so its scores differ from bm25s' (BM25-only nDCG@10 on dev 0.540 / 0.884
  against 0.543 / 0.879 on h2020_titles / he: about the same quality, not the same scores). Our
  fusion z-normalises the lexical scores of every candidate, so every matching document has to come
  back through Python (``limit`` = all), and a change is visible only after a commit and a reload:
  28 ms at 20,000 and 0.28 s at 100,000 per upsert plus scores, 10 to 15 times this index. It would
  also add a compiled dependency for no gain here.
"""
from __future__ import annotations

import bisect
import logging
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

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
    return with_bigrams(stems) if bigrams else stems


def with_bigrams(stems: list[str]) -> list[str]:
    """Stems followed by a bigram "a_b" for every two adjacent ones (a new list)."""
    return stems + [f"{a}_{b}" for a, b in zip(stems, stems[1:], strict=False)]


@dataclass(frozen=True)
class Bm25Params:
    """BM25 parameters (bm25s "lucene" variant)."""

    k1: float = 1.5
    b: float = 0.75


# Tuning of the postings storage (module constants so that tests can shrink them).
#: Pending documents are written into a segment at the next query, or once their postings reach
#: max(this, min(the postings already in segments, MAX_MERGE)): so bulk indexing writes segments of
#: up to MAX_MERGE postings and a live index a small one per query that follows a change.
FLUSH_POSTINGS = 1 << 16
#: A segment with fewer live postings than this is always merged with the one after it.
SMALL_SEGMENT = 1 << 13
#: Segments are not merged into one of more live postings than this (Lucene's maximum merged
#: segment size): it bounds the pause of a merge (~0.1 s) and of a rewrite of a half-dead segment.
MAX_MERGE = 1 << 20
#: Slot numbers are compacted (every segment rewritten) once dead slots exceed the live ones plus this.
RENUMBER_SLACK = 4096

_EMPTY_I32 = np.zeros(0, dtype=np.int32)
_EMPTY_F32 = np.zeros(0, dtype=np.float32)


def _grown(array: np.ndarray, needed: int, fill: float | int = 0) -> np.ndarray:
    """`array` with room for at least `needed` entries (capacity doubled, new entries `fill`)."""
    if needed <= len(array):
        return array
    bigger = np.full(max(needed, 2 * len(array), 16), fill, dtype=array.dtype)
    bigger[:len(array)] = array
    return bigger


class _Segment:
    """Immutable postings of documents whose slots lie in [lo, hi), grouped by term.

    `terms` are the sorted distinct term ids; the postings of ``terms[i]`` are
    ``slots[indptr[i]:indptr[i + 1]]`` (ascending) with their term frequencies in `tfs`. Postings
    of removed documents stay until the segment is rewritten; `dead` counts them.
    """

    __slots__ = ("lo", "hi", "terms", "indptr", "slots", "tfs", "dead")

    def __init__(self, lo: int, hi: int, post_terms: np.ndarray, slots: np.ndarray, tfs: np.ndarray) -> None:
        # post_terms: the term of every posting, sorted (slots ascending within a term).
        self.lo, self.hi = lo, hi
        self.slots = np.ascontiguousarray(slots, dtype=np.int32)
        self.tfs = np.ascontiguousarray(tfs, dtype=np.float32)
        if len(post_terms):
            starts = np.concatenate(([0], np.flatnonzero(post_terms[1:] != post_terms[:-1]) + 1))
        else:
            starts = np.zeros(0, dtype=np.int64)
        self.terms = np.ascontiguousarray(post_terms[starts], dtype=np.int32)
        self.indptr = np.append(starts, len(post_terms)).astype(np.int64)
        self.dead = 0

    def __len__(self) -> int:
        return len(self.slots)

    @property
    def live(self) -> int:
        return len(self.slots) - self.dead

    def post_terms(self) -> np.ndarray:
        """The term of every posting (the inverse of the grouping)."""
        return np.repeat(self.terms, np.diff(self.indptr))

    def lookup(self, sorted_terms: np.ndarray, term_index: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Postings of the given terms: (slots, tfs, index of the query term of each posting).

        Args:
            sorted_terms: query term ids, ascending.
            term_index: for each of them, its index in the query.
        """
        if not len(self.terms):
            return None
        found = np.minimum(np.searchsorted(self.terms, sorted_terms), len(self.terms) - 1)
        hit = self.terms[found] == sorted_terms
        if not hit.any():
            return None
        found = found[hit]
        starts, lengths = self.indptr[found], self.indptr[found + 1] - self.indptr[found]
        total = int(lengths.sum())
        # The indices of all the postings of the found terms, one run per term, without a loop.
        offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(total)
        return self.slots[offsets], self.tfs[offsets], np.repeat(term_index[hit], lengths)


class _LanguageIndex:
    """Exact, incremental BM25 statistics and postings of one language's documents.

    Documents live in slots (numbered in insertion order, never reused until a renumbering); a
    slot's ranker position is in `slot_pos` (-1 once removed). Postings sit in a few immutable
    segments with geometrically decreasing sizes (the last ones hold the newest slots) plus the
    pending documents not yet written into one. `df`, `n_docs` and `sum_dl` cover live documents
    only and are updated on every change, so a score never depends on a segment's age.
    """

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self.stems: list[str] = []
        self.df = np.zeros(0, dtype=np.int64)
        self.slot_pos = np.zeros(0, dtype=np.int64)
        self.slot_dl = np.zeros(0, dtype=np.int64)
        self.n_slots = 0
        self.n_docs = 0
        self.sum_dl = 0
        self.doc_terms: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # live slot -> (term ids, tfs)
        self.segments: list[_Segment] = []
        self._segment_lo: list[int] = []  # the segments' first slots, for bisect
        self.segment_postings = 0  # postings in segments, dead ones included
        self.flushed_until = 0  # slots below are in segments (or have no postings); above, pending
        self.pending_postings = 0

    # ---- changes -----------------------------------------------------------------------

    def add(self, position: int, tokens: list[str]) -> int:
        """Index a document's tokens for `position`; returns its slot."""
        counts = Counter(tokens)
        ids = list(map(self.vocab.get, counts))
        if None in ids:
            vocab, stems = self.vocab, self.stems
            for i, stem in enumerate(counts):
                if ids[i] is None:
                    ids[i] = vocab[stem] = len(stems)
                    stems.append(stem)
            if len(stems) > len(self.df):
                self.df = _grown(self.df, len(stems))
        terms = np.array(ids, dtype=np.int32) if ids else _EMPTY_I32
        tfs = np.fromiter(counts.values(), dtype=np.float32, count=len(counts)) if ids else _EMPTY_F32
        self.df[terms] += 1
        slot = self.n_slots
        self.n_slots += 1
        if self.n_slots > len(self.slot_pos):
            self.slot_pos = _grown(self.slot_pos, self.n_slots, -1)
            self.slot_dl = _grown(self.slot_dl, self.n_slots)
        dl = len(tokens) or 1  # bm25s indexes an empty document as [""]: length 1
        self.slot_pos[slot], self.slot_dl[slot] = position, dl
        self.doc_terms[slot] = (terms, tfs)
        self.n_docs += 1
        self.sum_dl += dl
        self.pending_postings += len(terms)
        if self.pending_postings >= max(FLUSH_POSTINGS, min(self.segment_postings, MAX_MERGE)):
            self.flush()
        return slot

    def remove(self, slot: int) -> None:
        """Forget the document in `slot`."""
        terms, _ = self.doc_terms.pop(slot)
        self.df[terms] -= 1
        self.n_docs -= 1
        self.sum_dl -= int(self.slot_dl[slot])
        self.slot_pos[slot] = -1
        if slot >= self.flushed_until:
            self.pending_postings -= len(terms)
        elif len(terms):
            index = bisect.bisect_right(self._segment_lo, slot) - 1
            segment = self.segments[index]
            segment.dead += len(terms)
            if 2 * segment.dead > len(segment):
                self._replace(index, index + 1, self._rewrite([segment]))

    def renumber_due(self) -> bool:
        return self.n_slots - self.n_docs > self.n_docs + RENUMBER_SLACK

    def renumber(self) -> None:
        """Number the live slots 0..n_docs-1 again (in the same order); every segment is rewritten."""
        self.flush()
        alive = self.slot_pos[:self.n_slots] >= 0
        below = np.concatenate(([0], np.cumsum(alive)))  # below[s]: live slots under s
        new_slot = below[:-1]
        segments = []
        for segment in self.segments:
            keep = alive[segment.slots]
            if keep.any():
                segments.append(_Segment(int(below[segment.lo]), int(below[segment.hi]),
                                         segment.post_terms()[keep], new_slot[segment.slots[keep]],
                                         segment.tfs[keep]))
        self.segments = segments
        self._segments_changed()
        self.flushed_until = int(below[self.flushed_until])
        self.doc_terms = {int(new_slot[s]): v for s, v in self.doc_terms.items()}
        self.slot_pos = np.ascontiguousarray(self.slot_pos[:self.n_slots][alive])
        self.slot_dl = np.ascontiguousarray(self.slot_dl[:self.n_slots][alive])
        self.n_slots = self.n_docs

    # ---- segments ----------------------------------------------------------------------

    def flush(self) -> None:
        """Write the pending documents into a segment, then merge segments of similar sizes."""
        if self.flushed_until == self.n_slots:
            return
        slots = np.arange(self.flushed_until, self.n_slots)
        slots = slots[self.slot_pos[slots] >= 0]
        parts = [self.doc_terms[int(s)] for s in slots]
        lo, self.flushed_until, self.pending_postings = self.flushed_until, self.n_slots, 0
        lengths = np.array([len(terms) for terms, _ in parts], dtype=np.int64)
        if not lengths.sum():
            return
        post_terms = np.concatenate([terms for terms, _ in parts])
        order = np.argsort(post_terms, kind="stable")  # slots stay ascending within a term
        segment = _Segment(lo, self.n_slots, post_terms[order], np.repeat(slots, lengths)[order],
                           np.concatenate([tfs for _, tfs in parts])[order])
        self.segments.append(segment)
        self._segments_changed()
        segments = self.segments
        while (len(segments) >= 2 and segments[-2].live + segments[-1].live <= MAX_MERGE
               and (segments[-2].live <= 2 * segments[-1].live or segments[-2].live < SMALL_SEGMENT)):
            n = len(segments)
            self._replace(n - 2, n, self._rewrite(segments[-2:]))

    def _rewrite(self, segments: list[_Segment]) -> _Segment | None:
        """One segment with the live postings of adjacent `segments` (None when none is left)."""
        post_terms = np.concatenate([s.post_terms() for s in segments])
        slots = np.concatenate([s.slots for s in segments])
        tfs = np.concatenate([s.tfs for s in segments])
        keep = self.slot_pos[slots] >= 0
        if not keep.any():
            return None
        post_terms, slots, tfs = post_terms[keep], slots[keep], tfs[keep]
        if len(segments) > 1:  # each part is sorted by term: a stable sort merges the runs
            order = np.argsort(post_terms, kind="stable")
            post_terms, slots, tfs = post_terms[order], slots[order], tfs[order]
        return _Segment(segments[0].lo, segments[-1].hi, post_terms, slots, tfs)

    def _replace(self, start: int, stop: int, segment: _Segment | None) -> None:
        self.segments[start:stop] = [segment] if segment is not None else []
        self._segments_changed()

    def _segments_changed(self) -> None:
        self._segment_lo = [s.lo for s in self.segments]
        self.segment_postings = sum(len(s) for s in self.segments)

    # ---- scoring -----------------------------------------------------------------------

    def idf(self, stem: str) -> float:
        term = self.vocab.get(stem)
        df = int(self.df[term]) if term is not None else 0
        return _idf(self.n_docs, df)

    def postings_scores(self, weights: Mapping[str, float], params: Bm25Params
                        ) -> tuple[np.ndarray, np.ndarray] | None:
        """BM25 contributions of the query stems' postings: (positions, float32 values).

        The values are computed as bm25s computes its eager score matrix (float32 idf times the
        float64 term-frequency part, rounded to float32, times the query weight in float32) and are
        returned in query-term order, so that summing them per position gives bm25s' scores
        bit for bit.
        """
        if self.n_docs == 0:
            return None
        self.flush()
        query_terms, query_weights, idfs = [], [], []
        for stem, weight in weights.items():
            term = self.vocab.get(stem)
            if term is None or not stem or not weight > 0:
                continue
            df = int(self.df[term])
            if df == 0:
                continue
            query_terms.append(term)
            query_weights.append(weight)
            idfs.append(_idf(self.n_docs, df))
        if not query_terms:
            return None
        terms = np.array(query_terms, dtype=np.int32)
        order = np.argsort(terms, kind="stable")
        found = [hit for segment in self.segments
                 if (hit := segment.lookup(terms[order], order)) is not None]
        if not found:
            return None
        slots = np.concatenate([f[0] for f in found])
        tfs = np.concatenate([f[1] for f in found]).astype(np.float64)
        which = np.concatenate([f[2] for f in found])
        positions = self.slot_pos[slots]
        live = positions >= 0
        if not live.all():
            slots, tfs, which, positions = slots[live], tfs[live], which[live], positions[live]
        in_query_order = np.argsort(which, kind="stable")
        slots, tfs, which, positions = (slots[in_query_order], tfs[in_query_order], which[in_query_order],
                                        positions[in_query_order])
        k1, b = params.k1, params.b
        avgdl = np.float64(self.sum_dl) / np.float64(self.n_docs)  # == bm25s' mean of the lengths
        dl = self.slot_dl[slots].astype(np.float64)
        tfc = tfs / (k1 * ((1 - b) + b * dl / avgdl) + tfs)
        idf32 = np.array(idfs, dtype=np.float32)
        values = (idf32[which].astype(np.float64) * tfc).astype(np.float32)
        values *= np.array(query_weights, dtype=np.float32)[which]
        return positions, values


def _idf(n_docs: int, df: int) -> float:
    """Lucene's BM25 idf (as bm25s computes it)."""
    return math.log(1 + (n_docs - df + 0.5) / (df + 0.5))


_CODES = tuple(LANGUAGES)


class LexicalIndex:
    """BM25 per document language over documents at positions 0..n-1, updated in place.

    The caller (the ranker) owns positions. A change costs the analysis of the changed document plus
    amortised O(log n) work per posting (segment merges); a query reads only the postings of its
    stems. Scores equal those of a bm25s "lucene" index rebuilt over the same documents.
    """

    def __init__(self, params: Bm25Params | None = None, bigrams: bool = False) -> None:
        self.params = params or Bm25Params()
        self.bigrams = bigrams
        self._subs: dict[str, _LanguageIndex] = {}
        # position -> (language code index or -1, slot), capacity grown as needed
        self._pos_language = np.zeros(0, dtype=np.int8)
        self._pos_slot = np.zeros(0, dtype=np.int64)
        self.size = 0

    # ---- building ----------------------------------------------------------------------

    def _room(self, position: int) -> None:
        if position >= len(self._pos_language):
            self._pos_language = _grown(self._pos_language, position + 1, -1)
            self._pos_slot = _grown(self._pos_slot, position + 1, -1)

    def _sub(self, position: int) -> tuple[_LanguageIndex, int] | None:
        if position >= len(self._pos_language) or self._pos_language[position] < 0:
            return None
        return self._subs[_CODES[self._pos_language[position]]], int(self._pos_slot[position])

    def set_document(self, position: int, text: str, language: str, stems: list[str] | None = None) -> None:
        """Add or replace the document at `position`.

        Args:
            position: the position.
            text: the text.
            language: its language code.
            stems: ``analyze(text, language)`` (without bigrams) if the caller already has it.
        """
        language = language_of(language)
        if stems is None:
            tokens = analyze(text, language, self.bigrams)
        else:
            tokens = with_bigrams(stems) if self.bigrams else stems
        self.remove_document(position)
        self._room(position)
        sub = self._subs.get(language)
        if sub is None:
            sub = self._subs[language] = _LanguageIndex()
        self._pos_slot[position] = sub.add(position, tokens)
        self._pos_language[position] = _CODES.index(language)
        self.size = max(self.size, position + 1)

    def remove_document(self, position: int) -> None:
        """Forget the document at `position` (its score becomes 0)."""
        found = self._sub(position)
        if found is None:
            return
        sub, slot = found
        sub.remove(slot)
        self._pos_language[position] = -1
        if sub.renumber_due():
            sub.renumber()
            positions = sub.slot_pos[:sub.n_slots]
            self._pos_slot[positions] = np.arange(sub.n_slots)

    def move_document(self, source: int, target: int) -> None:
        """Move a document to another position (the ranker compacts positions on removal)."""
        self.remove_document(target)  # first: it may renumber the slots
        found = self._sub(source)
        if found is None:
            raise KeyError(source)
        sub, slot = found
        self._room(target)
        sub.slot_pos[slot] = target
        self._pos_language[target], self._pos_slot[target] = self._pos_language[source], slot
        self._pos_language[source] = -1

    def resize(self, size: int) -> None:
        """Set the number of positions (after compaction)."""
        self.size = size

    def flush(self) -> None:
        """Write pending documents into segments now (queries do it when they need to)."""
        for sub in self._subs.values():
            sub.flush()

    # ---- querying ----------------------------------------------------------------------

    def languages(self) -> list[str]:
        """The document languages present."""
        return sorted(code for code, sub in self._subs.items() if sub.n_docs)

    def language_mask(self, language: str) -> np.ndarray:
        """A boolean array over positions: True where the document has `language`."""
        mask = np.zeros(self.size, dtype=bool)
        code = _CODES.index(language_of(language))
        known = min(self.size, len(self._pos_language))
        mask[:known] = self._pos_language[:known] == code
        return mask

    def scores(self, query: str | Mapping[str, float], language: str) -> np.ndarray:
        """BM25 scores of every position for a query.

        Args:
            query: the query text, or stems with weights.
            language: the query's language; its stemmer is used against every sub-index.

        Returns:
            float32 array of length `size`; 0 where nothing matched or no document is.
        """
        if isinstance(query, str):
            weights: Mapping[str, float] = Counter(analyze(query, language, self.bigrams))
        else:
            weights = query
        found = [hit for sub in self._subs.values()
                 if (hit := sub.postings_scores(weights, self.params)) is not None]
        if not found:
            return np.zeros(self.size, dtype=np.float32)
        positions = np.concatenate([f[0] for f in found])
        values = np.concatenate([f[1] for f in found])
        return np.bincount(positions, weights=values, minlength=self.size)[:self.size].astype(np.float32)

    def tokens(self, position: int) -> list[str]:
        """The stems of the document at `position`, as a bag: each repeated as often as it occurs,
        in order of first occurrence."""
        found = self._sub(position)
        if found is None:
            return []
        sub, slot = found
        terms, tfs = sub.doc_terms[slot]
        return [sub.stems[t] for t, tf in zip(terms.tolist(), tfs.tolist(), strict=True) for _ in range(int(tf))]

    def idf(self, stem: str, language: str) -> float:
        """BM25 idf of a stem in one language's sub-index (0 when that language has no documents)."""
        sub = self._subs.get(language_of(language))
        return sub.idf(stem) if sub is not None and sub.n_docs else 0.0


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


