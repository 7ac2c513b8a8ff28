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

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .ranking import Ranked

#: (dense cosine floor, BM25 floor) by encoder name (the part of `Encoder.id` before "@").
FLOORS: dict[str, tuple[float, float]] = {
    "use-multilingual-v3": (0.18, 5.0),
    # e5-small's cosines are compressed (real queries' best 0.71-0.78, contentless ones 0.69-0.73), so
    # the combined engine separates less well: 86 % caught, 0.6 / 4.7 / 4.7 % of real queries (en/nl/fr).
    "use-multilingual-v3+e5-small": (0.72, 5.0),
}


def engine_name(encoder_id: str) -> str:
    """The name of the engine an `Encoder.id` belongs to: "use-multilingual-v3", "use-multilingual-v3+e5-small"."""
    return "+".join(part.split("@", 1)[0] for part in encoder_id.split("|", 1)[0].split("+"))


def floors(encoder_id: str) -> tuple[float, float] | None:
    """The measured floors of an encoder, or None when none were measured."""
    return FLOORS.get(engine_name(encoder_id))


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


# ---- how strong a match is ---------------------------------------------------------------------

#: Band names, strongest first.
BAND_NAMES: tuple[str, ...] = ("strong", "good", "possible")


@dataclass(frozen=True)
class StrengthModel:
    """P(relevant | fused score, how many documents were searched, raw cosine), and the band floors.

    Fitted by ``python -m bench.calibration`` on the dev judgments: logistic regression on the fused
    score, log(documents searched) and their product, and the raw cosine, cross-validated by query,
    over the whole dev corpus and over small corpora (each query's relevant documents among 30 and
    300 others: a platform's first months). The fused score is made of z-scores over the searched
    documents, so the same score means more among 2,000 documents than among 30; the size term lets
    one model serve both (bench/results/calibration.json has the precision per band and size).

    Attributes:
        coefficients: bias, then the weights of fused, log(searched), fused x log(searched), cosine.
        floors: the lowest probability of each band but the last.
        precision: the share of relevant results each band measured on held-out queries.
    """

    coefficients: tuple[float, ...]
    floors: Mapping[str, float]
    precision: Mapping[str, float]

    def probability(self, score: float, searched: float, cosine: float) -> float:
        """The calibrated probability that a result with these parts is relevant."""
        size = float(np.log(max(searched, 2.0)))
        bias, w_score, w_size, w_both, w_cosine = self.coefficients
        z = bias + w_score * score + w_size * size + w_both * score * size + w_cosine * cosine
        return float(1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0))))

    def band(self, probability: float) -> str:
        """The band of a calibrated probability."""
        for name in BAND_NAMES[:-1]:
            if probability >= self.floors[name]:
                return name
        return BAND_NAMES[-1]


def _measured_models() -> dict[str, StrengthModel]:
    """The models `bench.calibration` measured, from ``strength_models.json`` beside this module."""
    path = Path(__file__).with_name("strength_models.json")
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return {name: StrengthModel(coefficients=tuple(float(c) for c in entry["coefficients"]),
                                floors=dict(entry["floors"]), precision=dict(entry["precision"]))
            for name, entry in data.items() if "coefficients" in entry}


#: Strength models by engine name (`engine_name`), as measured on dev (`bench.calibration`).
STRENGTH_MODELS: dict[str, StrengthModel] = _measured_models()


@dataclass(frozen=True)
class Strength:
    """How strong one match is: its band and the calibrated probability behind it."""

    band: str
    probability: float
    precision: float


def strength_model(encoder_id: str) -> StrengthModel | None:
    """The measured strength model of an encoder, or None when none was measured."""
    return STRENGTH_MODELS.get(engine_name(encoder_id))


def strength(parts: Mapping[str, float], encoder_id: str) -> Strength | None:
    """The band of a hybrid result from its parts: the fused text score (``parts["text"]`` as
    suggestions keep it, or ``parts["fused"]`` as the ranker reports it), ``searched`` and the raw
    cosine ``dense``; None when the encoder has no measured model or a part is missing (a BM25-only
    search, or a suggestion stored before the ranker reported ``searched``).
    """
    model = strength_model(encoder_id)
    score = parts.get("text", parts.get("fused"))
    if model is None or score is None or "dense" not in parts or "searched" not in parts:
        return None
    probability = model.probability(float(score), float(parts["searched"]), float(parts["dense"]))
    band = model.band(probability)
    return Strength(band=band, probability=probability, precision=float(model.precision.get(band, 0.0)))
