"""The matching engine: text -> vectors -> ranked ids. A plain library: no Flask, no `proeftuin`.

Use it through its facade, `Embeddings` (`embeddings.engine`): index, upsert, remove, search,
explain, similar, save and load.
"""
from .encoders import DEFAULT_ENGINE, Encoder, get_encoder
from .engine import DEFAULT_CANDIDATES, DEFAULT_EXACT_LIMIT, Embeddings
from .evidence import Strength
from .index import Hit, IndexCorrupt, configure_threads
from .ranking import Document, Explanation, Ranked, RankingParams, document_vector
from .text import content_hash

__all__ = [
    "DEFAULT_CANDIDATES",
    "DEFAULT_ENGINE",
    "DEFAULT_EXACT_LIMIT",
    "Document",
    "Embeddings",
    "Encoder",
    "Explanation",
    "Hit",
    "IndexCorrupt",
    "Ranked",
    "RankingParams",
    "Strength",
    "configure_threads",
    "content_hash",
    "document_vector",
    "get_encoder",
]
