"""Learning from facilitators' decisions: a re-ranking of the start-ups suggested for a challenge.

Suggestions for a challenge are a search of the start-up profiles with the challenge's text
(`services/suggestions.py`). Facilitators' decisions on them are judged (query, document) pairs:

- accepted: relevant (grade 1);
- rejected as "Does not answer the challenge" (`RejectReason.OFF_TOPIC`): not relevant (grade 0);
- every other rejection (not mature, region, already known, scale, other), "needs information"
  and undecided suggestions are left out: they say nothing about how well the texts fit.
- a decision made on texts that changed since (the suggestion's content hashes differ from the
  current texts) is left out too: it judged other texts than those the features are computed on.

A challenge's decisions form one judged list, and only a list with at least one relevant and one
not-relevant decision counts (for training and for the comparison alike): a list of one grade
teaches LambdaRank nothing and scores the same under any order. Lists are split by challenge id,
deterministically, so the same challenge is always held back (`is_held_back`: crc32 % 4 == 0,
about one in four). The features of each decided pair are the hybrid's score parts for the
challenge's text as a full search would normalise them (`matching.scored`), whatever the pair's
rank now.

`learn` trains `embeddings.learned` LambdaRank on the other lists and compares nDCG@10 on the
held-back lists between the ranking in use (the hybrid's fused order, or the active model's) and
the new model; each list is the held-back challenge's decided start-ups in the order a ranking
puts them. It switches only with at least MATCHING_LEARN_MIN_DECISIONS training decisions and
MATCHING_LEARN_MIN_HELD_BACK held-back lists, and when the new model is strictly better, by more
than MATCHING_LEARN_MIN_GAIN thousandths of nDCG@10 (default 10: with a few held-back lists,
a model trained on random labels can come out a little ahead by chance); every run
is recorded (`LearningRun`), a refused one with its reason. Processes pick up a newly active model
at their next check (`matching._follow_learned`). The model changes the order of the hybrid's best
results, never the stored vectors.
"""
from __future__ import annotations

import logging
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa
from flask import current_app

from embeddings.learned import DEFAULT_PARAMS, JudgedList, LearnedRanking, feature_rows, ndcg_at, train
from proeftuin.enums import LearningRefusal, LearningStatus, RejectReason, SuggestionStatus
from proeftuin.extensions import db
from proeftuin.models import Challenge, LearningRun, MatchSuggestion, StartupProfile, User
from proeftuin.services import audit, matching
from proeftuin.services.texts import PROFILE, challenge_text

logger = logging.getLogger(__name__)

#: What is learned: the order of the start-up profiles found for a challenge's text.
KIND = PROFILE
#: One challenge in HOLD_OUT_MODULUS is held back (crc32 of its id).
HOLD_OUT_MODULUS = 4
NDCG_AT = 10
RELEVANT, NOT_RELEVANT = 1, 0
#: LightGBM's default `min_data_in_leaf` (40) is for hundreds of queries; with the few dozen decisions
#: a platform has at first no tree could split. A leaf holds at least this share of the rows (and 5).
LEAF_SHARE = 0.1


@dataclass
class JudgedChallenge:
    """One challenge's usable decisions, best fused score first."""

    challenge_id: int
    profile_ids: list[int]
    grades: np.ndarray
    features: np.ndarray
    fused: np.ndarray

    @property
    def held_back(self) -> bool:
        return is_held_back(self.challenge_id)


@dataclass
class LearnReport:
    """What one `learn` run found and did.

    Attributes:
        decisions: the decisions trained on (in the training lists).
        held_back: the held-back lists (challenges) compared on.
        held_back_decisions: the decisions in them.
        current: "hybrid" or "learned" (the ranking in use the model was compared with).
        current_ndcg: nDCG@10 of the ranking in use on the held-back lists (None without any).
        learned_ndcg: nDCG@10 of the new model on them (None when nothing could be trained).
        switched: whether the new model is now in use.
        reason: why not (None when switched).
        run: the recorded run (None for a dry run).
    """

    decisions: int
    held_back: int
    held_back_decisions: int
    current: str
    current_ndcg: float | None
    learned_ndcg: float | None
    switched: bool
    reason: LearningRefusal | None
    run: LearningRun | None = None


@dataclass
class LearningSummary:
    """For the dashboard: the model in use (None: the plain hybrid) and the last runs, newest first."""

    active: LearningRun | None
    runs: list[LearningRun]


def is_held_back(challenge_id: int) -> bool:
    """Whether a challenge's decisions are held back for the comparison (always the same answer)."""
    return zlib.crc32(str(challenge_id).encode("ascii")) % HOLD_OUT_MODULUS == 0


def grade_of(row: MatchSuggestion) -> int | None:
    """A decision's relevance grade, or None when it says nothing about the texts' fit."""
    if row.status == SuggestionStatus.ACCEPTED:
        return RELEVANT
    if row.status == SuggestionStatus.REJECTED and row.reason_code == RejectReason.OFF_TOPIC.value:
        return NOT_RELEVANT
    return None


def judged_decisions() -> dict[int, dict[int, int]]:
    """The usable decisions: challenge id -> start-up profile id -> grade (see the module's docstring)."""
    rows = db.session.scalars(
        sa.select(MatchSuggestion).where(MatchSuggestion.status.in_(
            (SuggestionStatus.ACCEPTED, SuggestionStatus.REJECTED))).order_by(MatchSuggestion.id)
    ).all()
    challenges = {c.id: c for c in db.session.scalars(
        sa.select(Challenge).where(Challenge.id.in_({r.challenge_id for r in rows})))} if rows else {}
    profiles = {p.id: p for p in db.session.scalars(
        sa.select(StartupProfile).where(StartupProfile.id.in_({r.profile_id for r in rows})))} if rows else {}
    hashes: dict[tuple[str, int], str] = {}

    def current_hash(kind: str, obj: Challenge | StartupProfile) -> str:
        if (kind, obj.id) not in hashes:
            hashes[kind, obj.id] = matching.text_hash(obj)
        return hashes[kind, obj.id]

    out: dict[int, dict[int, int]] = {}
    for row in rows:
        grade = grade_of(row)
        challenge, profile = challenges.get(row.challenge_id), profiles.get(row.profile_id)
        if grade is None or challenge is None or profile is None:
            continue
        if (row.challenge_hash != current_hash("challenge", challenge)
                or row.profile_hash != current_hash("profile", profile)):
            continue
        out.setdefault(row.challenge_id, {})[row.profile_id] = grade
    return out


def judged_lists() -> list[JudgedChallenge]:
    """Each challenge's usable decisions with their features, for challenges with both grades."""
    out = []
    for challenge_id, decided in sorted(judged_decisions().items()):
        if len(set(decided.values())) < 2:
            continue
        challenge = db.session.get(Challenge, challenge_id)
        query, language = challenge_text(challenge), challenge.language.value
        vectors = matching.query_vectors(challenge)
        # The hybrid's best result too, so that "gap to the best" is measured as in a search.
        best = [r.id for r in matching.plain_rank(KIND, query, language, 1, query_vectors=vectors)]
        results = matching.scored(KIND, query, language, set(decided) | set(best), query_vectors=vectors)
        features = feature_rows(results, query)
        keep = [i for i, r in enumerate(results) if r.id in decided]
        grades = np.asarray([decided[results[i].id] for i in keep], dtype=np.float64)
        if len(set(grades.tolist())) < 2:  # a decided start-up left the index
            continue
        out.append(JudgedChallenge(challenge_id=challenge_id, profile_ids=[results[i].id for i in keep],
                                   grades=grades, features=features[keep],
                                   fused=np.asarray([results[i].score for i in keep], dtype=np.float64)))
    return out


def list_ndcgs(lists: Sequence[JudgedChallenge], model: LearnedRanking | None) -> list[float]:
    """nDCG@10 of each list in the order `model` gives it (None: the fused order)."""
    values = []
    for item in lists:
        scores = item.fused if model is None else model.scores(item.features)
        order = sorted(range(len(item.grades)), key=lambda i: (-scores[i], i))  # ties: the fused order
        values.append(ndcg_at(item.grades[order].tolist(), item.grades.tolist(), NDCG_AT))
    return values


def _mean(values: Sequence[float]) -> float | None:
    return float(np.mean(values)) if len(values) else None


def _params(rows: int) -> dict:
    return {**DEFAULT_PARAMS, "min_data_in_leaf": max(5, min(DEFAULT_PARAMS["min_data_in_leaf"],
                                                             int(rows * LEAF_SHARE)))}


def active_run(engine_id: str | None = None) -> LearningRun | None:
    """The active learning run of this engine (None: suggestions use the plain hybrid)."""
    return db.session.scalar(sa.select(LearningRun).where(
        LearningRun.kind == KIND, LearningRun.engine_id == (engine_id or matching.engine_key()),
        LearningRun.status == LearningStatus.ACTIVE))


def _usable(run: LearningRun | None) -> LearnedRanking | None:
    if run is None or not run.model_json:
        return None
    try:
        return LearnedRanking.from_json(run.model_json)
    except (ValueError, KeyError, TypeError) as exc:
        logger.warning("learned model %d is unusable (%s): comparing with the plain hybrid", run.id, exc)
        return None


def learn(actor: User | None = None, dry_run: bool = False) -> LearnReport:
    """Train a re-ranking on the decisions, compare it on the held-back ones, switch when better.

    Args:
        actor: who asked (None from the command line), for the audit trail.
        dry_run: compute and report only; nothing is recorded or switched.

    Returns:
        The report; its `run` is the recorded `LearningRun` (None for a dry run).
    """
    config = current_app.config
    engine_id = matching.engine_key()
    lists = judged_lists()
    held = [item for item in lists if item.held_back]
    training = [item for item in lists if not item.held_back]
    decisions = int(sum(len(item.grades) for item in training))
    previous = active_run(engine_id)
    in_use = _usable(previous)
    current_lists = list_ndcgs(held, in_use)
    current_ndcg = _mean(current_lists)

    model: LearnedRanking | None = None
    learned_ndcg: float | None = None
    learned_lists: list[float] = []
    if training:
        try:
            model = train([JudgedList(item.features, item.grades, str(item.challenge_id)) for item in training],
                          params=_params(decisions))
        except ValueError:
            model = None
    if model is not None:
        learned_lists = list_ndcgs(held, model)
        learned_ndcg = _mean(learned_lists)
    wins = sum(1 for new, old in zip(learned_lists, current_lists, strict=False) if new > old)
    losses = sum(1 for new, old in zip(learned_lists, current_lists, strict=False) if new < old)

    reason: LearningRefusal | None = None
    if not lists:
        reason = LearningRefusal.NOTHING_TO_LEARN
    elif decisions < config["MATCHING_LEARN_MIN_DECISIONS"]:
        reason = LearningRefusal.TOO_FEW_DECISIONS
    elif len(held) < config["MATCHING_LEARN_MIN_HELD_BACK"]:
        reason = LearningRefusal.TOO_FEW_HELD_BACK
    elif model is None:
        reason = LearningRefusal.NOTHING_TO_LEARN
    elif (learned_ndcg is None or current_ndcg is None or wins <= losses
          or not learned_ndcg - current_ndcg > config["MATCHING_LEARN_MIN_GAIN"] / 1000):
        reason = LearningRefusal.NOT_BETTER

    report = LearnReport(decisions=decisions, held_back=len(held),
                         held_back_decisions=int(sum(len(item.grades) for item in held)),
                         current="learned" if in_use is not None else "hybrid", current_ndcg=current_ndcg,
                         learned_ndcg=learned_ndcg, switched=reason is None, reason=reason)
    logger.info("learning from %d decisions, %d held-back lists: current %s, learned %s, %s", decisions,
                len(held), current_ndcg, learned_ndcg, "switching" if reason is None else reason.value)
    if dry_run:
        return report

    run = LearningRun(kind=KIND, engine_id=engine_id, decisions=decisions, held_back=len(held),
                      current_ndcg=current_ndcg, learned_ndcg=learned_ndcg,
                      status=LearningStatus.REFUSED if reason else LearningStatus.ACTIVE,
                      reason=reason.value if reason else None)
    if reason is None:
        model.info.update(engine_id=engine_id, decisions=decisions, held_back=len(held),
                          current_ndcg=current_ndcg, learned_ndcg=learned_ndcg)
        run.model_json = model.to_json()
        if previous is not None:
            previous.status = LearningStatus.RETIRED
            db.session.flush()  # one active run per kind and engine, also between these two statements
    db.session.add(run)
    db.session.flush()
    if reason is None:
        audit.record(actor, "matching.learned.switch", run, kind=KIND, engine_id=engine_id,
                     decisions=decisions, held_back=len(held), current_ndcg=current_ndcg,
                     learned_ndcg=learned_ndcg, replaced=previous.id if previous is not None else None)
    db.session.commit()
    if reason is None:
        matching.reload_learned()
    report.run = run
    return report


def forget(actor: User | None = None) -> LearningRun | None:
    """Go back to the plain hybrid: the active run is retired (audited).

    Returns:
        The run retired, or None when nothing learned was in use.
    """
    run = active_run()
    if run is None:
        return None
    run.status = LearningStatus.RETIRED
    audit.record(actor, "matching.learned.forget", run, kind=run.kind, engine_id=run.engine_id)
    db.session.commit()
    matching.reload_learned()
    return run


def summary(limit: int = 5) -> LearningSummary:
    """The active model of this engine and the last `limit` runs (refused ones included)."""
    engine_id = matching.engine_key()
    runs = list(db.session.scalars(
        sa.select(LearningRun).where(LearningRun.kind == KIND, LearningRun.engine_id == engine_id)
        .order_by(LearningRun.created_at.desc(), LearningRun.id.desc()).limit(limit)))
    return LearningSummary(active=active_run(engine_id), runs=runs)
