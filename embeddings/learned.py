"""A learned re-ranking of the hybrid's best candidates (LightGBM LambdaRank over the score parts).

The hybrid ranker fuses two z-scores with one fixed weight. A learned model can weigh the signals
the ranker already computes per result (raw and normalised BM25 and cosine, each encoder's own
cosine, the gap to the query's best evidence, whether the document is in the query's language,
the query's length) differently per situation: a Dutch query against English documents, a long
query with many shared words, a title-only query. It re-orders the top `depth` results of the
hybrid and never touches the stored vectors or the candidate set.

Trained on judged (query, document, relevance) lists: the dev judgments now
(``python -m bench.ltr``, cross-validated by query), the facilitators' decisions in the platform
(``flask matching learn``). A model is a LightGBM text dump plus the feature names it was trained
on, so a model trained on other features is refused rather than misread.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .ranking import Ranked

#: The features a model sees, in order. Missing parts (e.g. ``dense_1`` for a single encoder) are 0.
FEATURES: tuple[str, ...] = (
    "fused", "fused_gap", "dense", "dense_norm", "dense_gap", "lexical", "lexical_norm", "lexical_share",
    "same_language", "dense_0", "dense_1", "dense_parts_gap", "query_words",
)
#: How many of the hybrid's best results a model re-orders.
DEFAULT_DEPTH = 30
_WORD = re.compile(r"\w{3,}", re.UNICODE)

#: LambdaRank settings chosen for small judged sets (a few hundred queries): shallow trees, many
#: results per leaf, so that the model cannot memorise queries (bench/ltr.py measures them).
DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "lambdarank", "metric": "ndcg", "ndcg_eval_at": [10], "learning_rate": 0.05,
    "num_leaves": 7, "min_data_in_leaf": 40, "feature_fraction": 0.9, "bagging_fraction": 0.8,
    "bagging_freq": 1, "lambda_l2": 1.0, "verbosity": -1, "num_threads": 1, "seed": 7,
    "deterministic": True, "force_row_wise": True,
}
DEFAULT_ROUNDS = 150


def feature_rows(results: Sequence[Ranked], query: str) -> np.ndarray:
    """The feature matrix (len(results), len(FEATURES)) of one query's hybrid results.

    Args:
        results: the hybrid's results for the query, best first, with their parts.
        query: the query text (for its length).

    Returns:
        float32 rows in `FEATURES` order.
    """
    out = np.zeros((len(results), len(FEATURES)), dtype=np.float32)
    if not results:
        return out
    words = float(len(_WORD.findall(query)))
    top = max(r.score for r in results)
    for row, result in enumerate(results):
        p = result.parts
        dense, lexical = p.get("dense", 0.0), p.get("lexical", 0.0)
        values = {
            "fused": result.score,
            "fused_gap": result.score - top,
            "dense": dense,
            "dense_norm": p.get("dense_norm", 0.0),
            "dense_gap": dense - p.get("query_dense_max", dense),
            "lexical": lexical,
            "lexical_norm": p.get("lexical_norm", 0.0),
            "lexical_share": lexical / p["query_lexical_max"] if p.get("query_lexical_max", 0.0) > 0 else 0.0,
            "same_language": p.get("same_language", 1.0),
            "dense_0": p.get("dense_0", dense),
            "dense_1": p.get("dense_1", dense),
            "dense_parts_gap": p.get("dense_0", dense) - p.get("dense_1", dense),
            "query_words": math.log1p(words),
        }
        out[row] = [values[name] for name in FEATURES]
    return out


@dataclass
class JudgedList:
    """One query's results with their relevance grades (0 = not relevant), for training."""

    features: np.ndarray
    grades: np.ndarray
    key: str = ""


@dataclass
class LearnedRanking:
    """A trained re-ranking model.

    Attributes:
        model: the LightGBM model as text (`Booster.model_to_string`).
        features: the feature names it was trained on.
        depth: how many of the hybrid's best results it re-orders.
        info: what it was trained on and how it measured (free-form, kept with the model).
    """

    model: str
    features: tuple[str, ...] = FEATURES
    depth: int = DEFAULT_DEPTH
    info: dict[str, Any] = field(default_factory=dict)
    _booster: Any = field(default=None, repr=False, compare=False)

    @property
    def booster(self) -> Any:
        """The LightGBM booster (loaded from `model` on first use)."""
        if self._booster is None:
            import lightgbm

            self._booster = lightgbm.Booster(model_str=self.model)
        return self._booster

    def scores(self, features: np.ndarray) -> np.ndarray:
        """The model's score per row of `features`."""
        if len(features) == 0:
            return np.zeros(0, dtype=np.float64)
        return np.asarray(self.booster.predict(features, num_threads=1), dtype=np.float64)

    def rerank(self, results: Sequence[Ranked], query: str, k: int) -> list[Ranked]:
        """The top `depth` of `results` re-ordered by the model, then the rest, cut to `k`.

        Each result keeps its score and parts and gains ``parts["learned"]``.
        """
        head, tail = list(results[:self.depth]), list(results[self.depth:])
        if len(head) < 2:
            return list(results[:k])
        learned = self.scores(feature_rows(head, query))
        order = sorted(range(len(head)), key=lambda i: (-learned[i], i))
        ranked = [replace(head[i], parts={**head[i].parts, "learned": float(learned[i])}) for i in order]
        return (ranked + tail)[:k]

    def to_json(self) -> str:
        """The model as one JSON document (for a file or a database row)."""
        return json.dumps({"model": self.model, "features": list(self.features), "depth": self.depth,
                           "info": self.info})

    @classmethod
    def from_json(cls, text: str) -> LearnedRanking:
        """A model from `to_json`'s output.

        Raises:
            ValueError: the model was trained on other features than this code computes.
        """
        data = json.loads(text)
        features = tuple(data["features"])
        if features != FEATURES:
            raise ValueError(f"the model was trained on features {features}, this engine computes {FEATURES}")
        return cls(model=data["model"], features=features, depth=int(data.get("depth", DEFAULT_DEPTH)),
                   info=dict(data.get("info") or {}))


def train(lists: Sequence[JudgedList], params: Mapping[str, Any] | None = None, rounds: int = DEFAULT_ROUNDS,
          depth: int = DEFAULT_DEPTH) -> LearnedRanking:
    """Fit a LambdaRank model on judged lists (lists without a relevant result teach nothing and are dropped).

    Args:
        lists: one judged list per query.
        params: LightGBM parameters (default `DEFAULT_PARAMS`).
        rounds: boosting rounds.
        depth: how many results the model will re-order.

    Returns:
        The model.

    Raises:
        ValueError: no list has both a relevant and a non-relevant result.
    """
    import lightgbm

    useful = [item for item in lists if len(item.grades) > 1 and item.grades.max() > 0 and item.grades.min() == 0]
    if not useful:
        raise ValueError("no judged list with both a relevant and a non-relevant result")
    data = lightgbm.Dataset(np.vstack([item.features for item in useful]),
                            label=np.concatenate([item.grades for item in useful]).astype(np.float64),
                            group=[len(item.grades) for item in useful], feature_name=list(FEATURES),
                            free_raw_data=True)
    booster = lightgbm.train(dict(params or DEFAULT_PARAMS), data, num_boost_round=rounds)
    return LearnedRanking(model=booster.model_to_string(), depth=depth,
                          info={"lists": len(useful), "rows": int(sum(len(item.grades) for item in useful))})


def ndcg_at(grades_in_order: Sequence[float], all_grades: Sequence[float], k: int = 10) -> float:
    """nDCG@k of one ranked list (`grades_in_order`), against the ideal order of `all_grades`."""
    def dcg(values: Sequence[float]) -> float:
        return sum((2.0 ** g - 1.0) / math.log2(i + 2) for i, g in enumerate(list(values)[:k]))

    ideal = dcg(sorted(all_grades, reverse=True))
    return dcg(grades_in_order) / ideal if ideal > 0 else 0.0
