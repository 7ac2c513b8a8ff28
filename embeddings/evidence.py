"""Whether a query found real evidence, or only the nearest of many unrelated documents.

A dense ranking always returns its ten nearest documents, however unrelated the query ("asdf",
"de het een", "hello world"). A query is *thin* when neither signal found anything: the best dense
cosine over the searchable documents is below the encoder's floor and the best BM25 score is below
the lexical floor. The ranker reports both maxima with every result
(`Ranked.parts["query_dense_max"]`, `["query_lexical_max"]`).

The floors are measured by ``python -m bench.thin_queries`` on the dev corpus (2,347 CORDIS
projects) with the title queries in en/nl/fr (all of which have a relevant document) and
`bench/thin_queries.json` (44 queries without real content, written for this): for the USE engine,
a dense floor of 0.18 with a BM25 floor of 5.0 calls 95.5 % of those thin and 0.6 % (en), 1.8 %
(nl) and 1.2 % (fr) of the real queries (bench/results/thin_queries.json). The floors were chosen
on the dev files; an encoder without measured floors never calls a query thin.
"""
from __future__ import annotations

from collections.abc import Sequence

from .ranking import Ranked

#: (dense cosine floor, BM25 floor) by encoder name (the part of `Encoder.id` before "@").
FLOORS: dict[str, tuple[float, float]] = {"use-multilingual-v3": (0.18, 5.0)}


def floors(encoder_id: str) -> tuple[float, float] | None:
    """The measured floors of an encoder, or None when none were measured."""
    return FLOORS.get(encoder_id.split("@", 1)[0])


def is_thin(results: Sequence[Ranked], encoder_id: str) -> bool:
    """True when a hybrid or dense search found no real evidence (see the module docstring).

    Args:
        results: what `Embeddings.search` returned for the query (best first).
        encoder_id: the engine's `Encoder.id`.

    Returns:
        True for no results; False when the encoder has no measured floors.
    """
    if not results:
        return True
    measured = floors(encoder_id)
    if measured is None:
        return False
    dense_floor, lexical_floor = measured
    parts = results[0].parts
    if "query_dense_max" not in parts:
        return False  # a BM25-only search: its results have lexical evidence by definition
    return parts["query_dense_max"] < dense_floor and parts.get("query_lexical_max", 0.0) < lexical_floor
