"""Learning from facilitators' decisions: `flask matching learn` trains a re-ranking, compares it on
held-back decisions, switches only when better; processes follow the active model; the dashboard
shows before and after. The fast hashing encoder is enough: what is tested is the mechanism."""
from __future__ import annotations

import json
import logging
import re
import zlib

import pytest
import sqlalchemy as sa

from proeftuin.enums import Language, LearningStatus, OrgKind, Role, SuggestionStatus
from proeftuin.extensions import db
from proeftuin.models import AuditEvent, Challenge, Embedding, LearningRun, MatchSuggestion
from proeftuin.services import learning, matching
from proeftuin.services import suggestions as suggestion_service
from proeftuin.services.texts import PROFILE
from tests.conftest import login, make_challenge, make_org, make_profile, make_user

TOPICS = {
    "water": "rainwater flooding sewer drainage gutters basins",
    "bikes": "bicycle cyclists parking racks lanes helmets",
    "waste": "garbage recycling containers litter compost landfill",
    "light": "streetlights lamps lighting luminaires dimming poles",
    "trees": "trees shade canopy planting saplings greenery",
    "noise": "noise decibels acoustic barriers loudness traffic",
    "energy": "solar panels batteries heating insulation energy",
    "parking": "cars parking spaces garages meters permits",
}
# Challenges are written in this municipal phrasing; "decoy" start-ups copy it around one word of
# the topic, so the plain hybrid ranks them high on their phrasing while they do not answer.
PHRASING = ("Our municipality is looking for a solution that helps the citizens of the city and improves daily "
            "life in the neighbourhood for everyone, with {words}.")
CHALLENGES_PER_TOPIC = 2


def _build(app) -> dict:
    """Start-ups that fit a topic (its own words) and decoys (the phrasing), challenges, suggestions."""
    with app.app_context():
        municipality = make_org(OrgKind.MUNICIPALITY, "Gent", "44021")
        staff = make_org(OrgKind.FACILITATOR, "Steunpunt")
        make_user("facilitator@example.org", Role.FACILITATOR, staff)
        make_user("municipality@example.org", Role.MUNICIPALITY, municipality)
        topic_of: dict[int, str] = {}
        names = list(TOPICS)
        for topic, text in TOPICS.items():
            words = text.split()
            for i in range(2):
                profile = make_profile(make_org(OrgKind.STARTUP, f"{topic} fit {i}"), f"{words[i]} and {words[i + 2]}",
                                       f"We work on {' '.join(words[i:i + 4])}.")
                topic_of[profile.id] = topic
            other = TOPICS[names[(names.index(topic) + 3) % len(names)]].split()
            for i in range(2):
                profile = make_profile(make_org(OrgKind.STARTUP, f"{topic} decoy {i}"),
                                       "Helping the municipality and its citizens",
                                       PHRASING.format(words=words[i]) + " " + other[i])
                topic_of[profile.id] = "decoy"
        challenges: dict[int, str] = {}
        for topic, text in TOPICS.items():
            words = text.split()
            for j in range(CHALLENGES_PER_TOPIC):
                challenge = make_challenge(municipality, f"{words[j]} {words[j + 1]} {words[j + 3]}",
                                           language=Language.EN,
                                           problem=PHRASING.format(words=" ".join(words[j:j + 3])))
                challenges[challenge.id] = topic
        db.session.commit()
        matching.rebuild()
        for challenge_id in challenges:
            suggestion_service.refresh_suggestions(db.session.get(Challenge, challenge_id))
    return {"topic_of": topic_of, "challenges": challenges}


def _decide(app, world, rule) -> None:
    """Facilitators decide every suggestion: accepted when `rule(row)`, else rejected as off-topic."""
    with app.app_context():
        for row in db.session.scalars(sa.select(MatchSuggestion)):
            if rule(row):
                row.status, row.reason_code = SuggestionStatus.ACCEPTED, None
            else:
                row.status, row.reason_code = SuggestionStatus.REJECTED, "off_topic"
        db.session.commit()


def _fits(world):
    return lambda row: world["topic_of"][row.profile_id] == world["challenges"][row.challenge_id]


def _shown_order(client, challenge_id: int) -> list[str]:
    """The start-ups on a challenge's suggestions page, top to bottom, as a facilitator sees them."""
    page = client.get(f"/challenges/{challenge_id}/suggestions")
    assert page.status_code == 200
    names = re.findall(r"\b(\w+ (?:fit|decoy) \d)\b", page.get_data(as_text=True))
    return list(dict.fromkeys(names))


def _held_back_with_a_decoy_first(client, world) -> tuple[int, list[str]]:
    """A held-back challenge whose plain-hybrid suggestions put a decoy above a fitting start-up."""
    for challenge_id in world["challenges"]:
        if not learning.is_held_back(challenge_id):
            continue
        order = _shown_order(client, challenge_id)
        fits = [i for i, name in enumerate(order) if " fit " in name]
        if fits and any(" decoy " in name for name in order[:fits[-1]]):
            return challenge_id, order
    pytest.fail("no held-back challenge where the hybrid ranks a decoy above a fitting start-up")


@pytest.fixture
def world(app):
    return _build(app)


def test_learning_from_decisions_switches_and_reorders_what_users_see(app, world, runner):
    _decide(app, world, _fits(world))
    client = app.test_client()
    login(client, "facilitator@example.org")
    challenge_id, before = _held_back_with_a_decoy_first(client, world)
    with app.app_context():
        vectors_before = {r.id: r.vectors for r in db.session.scalars(sa.select(Embedding))}

    dry = runner.invoke(args=["matching", "learn", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would switch" in dry.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LearningRun)) == 0

    result = runner.invoke(args=["matching", "learn"])
    assert result.exit_code == 0, result.output
    assert "switched to the learned ranking" in result.output
    assert re.search(r"decisions used\s+\d+", result.output) and "held-back lists" in result.output
    with app.app_context():
        run = db.session.scalar(sa.select(LearningRun))
        assert run.status == LearningStatus.ACTIVE and run.kind == PROFILE
        assert run.engine_id == matching.engine_key()
        assert run.learned_ndcg > run.current_ndcg
        assert run.decisions >= app.config["MATCHING_LEARN_MIN_DECISIONS"]
        assert run.held_back >= app.config["MATCHING_LEARN_MIN_HELD_BACK"]
        assert f"{run.current_ndcg:.3f}" in result.output and f"{run.learned_ndcg:.3f}" in result.output
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "matching.learned.switch"))
        assert event is not None and event.object_id == run.id
        assert matching.learned_model(PROFILE) is not None
        # The model changed the order, not what the engine stores.
        assert {r.id: r.vectors for r in db.session.scalars(sa.select(Embedding))} == vectors_before

    after = _shown_order(client, challenge_id)
    assert after != before
    topic = world["challenges"][challenge_id]
    own = [name for name in before if name.startswith(f"{topic} fit ")]
    assert own and all(name in after for name in own)
    last_own = max(after.index(name) for name in own)
    assert not [name for name in after[:last_own] if " decoy " in name], after  # no decoy above them now

    # Learning again from the same decisions: the new model is compared with the one in use.
    again = runner.invoke(args=["matching", "learn"])
    assert "(learned)" in again.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LearningRun).where(
            LearningRun.status == LearningStatus.ACTIVE)) == 1

    forgot = runner.invoke(args=["matching", "forget-learned"])
    assert forgot.exit_code == 0 and "retired" in forgot.output
    with app.app_context():
        assert learning.active_run() is None and matching.learned_model(PROFILE) is None
        assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "matching.learned.forget"))
    assert _shown_order(client, challenge_id) == before
    assert "nothing learned was in use" in runner.invoke(args=["matching", "forget-learned"]).output


def test_too_few_decisions_are_refused_and_the_ranking_stays_the_hybrid(make_app):
    app = make_app(MATCHING_LEARN_MIN_DECISIONS=10_000)
    world = _build(app)
    _decide(app, world, _fits(world))
    client = app.test_client()
    login(client, "facilitator@example.org")
    challenge_id, before = _held_back_with_a_decoy_first(client, world)
    result = app.test_cli_runner().invoke(args=["matching", "learn"])
    assert result.exit_code == 0, result.output
    assert "not switched: too_few_decisions" in result.output
    with app.app_context():
        run = db.session.scalar(sa.select(LearningRun))
        assert run.status == LearningStatus.REFUSED and run.reason == "too_few_decisions"
        assert run.model_json is None
        assert matching.learned_model(PROFILE) is None
    assert _shown_order(client, challenge_id) == before


def test_random_decisions_teach_nothing_and_are_refused(app, world, runner):
    _decide(app, world, lambda row: zlib.crc32(f"{row.challenge_id}/{row.profile_id}".encode()) % 3 == 0)
    result = runner.invoke(args=["matching", "learn"])
    assert result.exit_code == 0, result.output
    assert "not switched: not_better" in result.output
    with app.app_context():
        run = db.session.scalar(sa.select(LearningRun))
        assert run.status == LearningStatus.REFUSED and run.reason == "not_better"
        assert matching.learned_model(PROFILE) is None


def test_only_accepted_and_off_topic_decisions_count(app, world):
    _decide(app, world, _fits(world))
    with app.app_context():
        rows = db.session.scalars(sa.select(MatchSuggestion).order_by(MatchSuggestion.id)).all()
        rows[0].status, rows[0].reason_code = SuggestionStatus.REJECTED, "wrong_region"
        rows[1].status, rows[1].reason_code = SuggestionStatus.NEEDS_INFO, None
        rows[2].status = SuggestionStatus.PROPOSED
        db.session.commit()
        decided = learning.judged_decisions()
        counted = {(c, p) for c, by_profile in decided.items() for p in by_profile}
        assert not {(r.challenge_id, r.profile_id) for r in rows[:3]} & counted
        assert len(counted) == len(rows) - 3


def _insert_active(app, model_json: str, engine_id: str | None = None) -> int:
    with app.app_context():
        run = LearningRun(kind=PROFILE, engine_id=engine_id or matching.engine_key(), model_json=model_json,
                          decisions=40, held_back=4, current_ndcg=0.5, learned_ndcg=0.9,
                          status=LearningStatus.ACTIVE)
        db.session.add(run)
        db.session.commit()
        return run.id


@pytest.mark.parametrize("broken", ["other features", "not a model", "other engine"])
def test_an_unusable_or_mismatched_model_is_ignored(app, world, caplog, broken):
    _decide(app, world, _fits(world))
    client = app.test_client()
    login(client, "facilitator@example.org")
    challenge_id, before = _held_back_with_a_decoy_first(client, world)
    if broken == "other features":
        _insert_active(app, json.dumps({"model": "tree", "features": ["fused", "something_new"], "depth": 30}))
    elif broken == "not a model":
        from embeddings.learned import FEATURES
        _insert_active(app, json.dumps({"model": "this is no LightGBM model", "features": list(FEATURES)}))
    else:
        _insert_active(app, "{}", engine_id="some-other-encoder@768|v2|p64")
    with caplog.at_level(logging.WARNING, logger="proeftuin.services.matching"):
        with app.app_context():
            state = matching._state(app)
            state.learned_runs = {}  # as a process that starts
            matching.reload_learned(app)
            assert matching.learned_model(PROFILE) is None
    assert "ignoring learned model" in caplog.text
    assert _shown_order(client, challenge_id) == before


def test_dashboard_shows_learning_before_and_after_to_staff_only(app, world, runner):
    facilitator = app.test_client()
    login(facilitator, "facilitator@example.org")
    facilitator.post("/language", data={"locale": "en"})
    page = facilitator.get("/dashboard/").get_data(as_text=True)
    assert 'id="learning"' in page and "nothing learned yet" in page

    _decide(app, world, _fits(world))
    runner.invoke(args=["matching", "learn"])
    app.config["MATCHING_LEARN_MIN_DECISIONS"] = 10_000
    runner.invoke(args=["matching", "learn"])  # refused: shown with its reason
    with app.app_context():
        active = learning.active_run()
        before, after = f"{active.current_ndcg:.3f}", f"{active.learned_ndcg:.3f}"
        decisions = active.decisions
    page = facilitator.get("/dashboard/").get_data(as_text=True)
    in_use = re.search(r'<p id="learning-in-use">(.*?)</p>', page, re.S).group(1)
    assert before in in_use and after in in_use and str(decisions) in in_use
    table = re.search(r'<table id="table-learning">(.*?)</table>', page, re.S).group(1)
    assert table.count("<tr>") == 3  # header and two runs
    assert "Too few decisions to learn from" in table and "In use" in table

    municipality = app.test_client()
    login(municipality, "municipality@example.org")
    assert municipality.get("/dashboard/").status_code == 403
