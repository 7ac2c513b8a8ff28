"""Route x role rows of the expert pool, the questions and the knowledge base (see test_access_matrix)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from tests.test_access_matrix import PRINCIPALS, everyone, only

STAFF_ONLY_302 = only({"facilitator": 302, "admin": 302})
STAFF_ONLY_200 = only({"facilitator": 200, "admin": 200})
DUE = (date.today() + timedelta(days=14)).isoformat()

POLICY = {
    "experts.pool": ("GET", "/experts/", None, STAFF_ONLY_200),
    "experts.profile": ("GET", "/experts/profile", None, STAFF_ONLY_200),
    "experts.questions": ("GET", "/questions/", None,
                          only({"muniA": 200, "muniB": 200, "facilitator": 200, "admin": 200})),
    "experts.ask": ("GET", "/questions/new", None, only({"muniA": 200, "muniB": 200})),
    "experts.question": ("GET", "/questions/{question}", None,
                         only({"muniA": 200, "muniB": 404, "facilitator": 200, "admin": 200})),
    "experts.assign": ("POST", "/questions/{question}/assign", {"expert_id": "{expert_user}", "due_on": DUE},
                       STAFF_ONLY_302),
    "experts.post_message": ("POST", "/questions/{question}/messages", {"body": "A short message."},
                             only({"muniA": 302, "muniB": 404, "facilitator": 302, "admin": 302})),
    "experts.answer": ("POST", "/questions/{question}/answer",
                       {"answer": "The answer to the question, long enough to be sent."}, STAFF_ONLY_302),
    "experts.close": ("POST", "/questions/{question}/close", {}, STAFF_ONLY_302),
    "experts.publish": ("GET", "/questions/{answered_question}/publish", None, STAFF_ONLY_200),
    "experts.unpublish": ("POST", "/questions/{published_question}/unpublish", {}, STAFF_ONLY_302),
    "experts.knowledge": ("GET", "/knowledge/", None, everyone(200)),
    "experts.knowledge_entry": ("GET", "/knowledge/{published_question}", None, everyone(200)),
}
assert all(set(row[3]) == set(PRINCIPALS) for row in POLICY.values())


def prepare(world) -> dict:
    """A's questions: one open, one answered, one published; the facilitator is an expert."""
    from proeftuin.enums import ExpertArea, Language, QuestionStatus
    from proeftuin.extensions import db
    from proeftuin.models import ExpertProfile, ExpertQuestion

    world.markers["question"] = "SECRET-question-MARKER"
    world.markers["answer"] = "SECRET-answer-MARKER"
    db.session.add(ExpertProfile(user_id=world.ids["facilitator"], areas=[ExpertArea.PROCUREMENT_LAW.value],
                                 expertise="Public procurement law and innovative procedures.",
                                 languages=["nl", "en"], language=Language.EN))
    common = {"organisation_id": world.ids["org_muniA"], "asked_by_id": world.ids["muniA"],
              "area": ExpertArea.PROCUREMENT_LAW.value, "language": Language.NL}
    question = ExpertQuestion(title="Mag dit?", question="Onze vraag " + world.markers["question"], **common)
    answered = ExpertQuestion(title="Beantwoorde vraag", question="Een vraag die al beantwoord is.",
                              status=QuestionStatus.ANSWERED, expert_id=world.ids["facilitator"],
                              answer="Het antwoord " + world.markers["answer"],
                              answered_at=datetime.now(UTC), **common)
    published = ExpertQuestion(title="Gepubliceerde vraag", question="Een vraag over de procedure.",
                               status=QuestionStatus.ANSWERED, expert_id=world.ids["facilitator"],
                               answer="Het antwoord.", answered_at=datetime.now(UTC), published=True,
                               public_title="Publieke titel", public_question="Publieke vraag over de procedure.",
                               public_answer="Publiek antwoord.", **common)
    db.session.add_all([question, answered, published])
    db.session.commit()
    return {"question": question.id, "answered_question": answered.id, "published_question": published.id,
            "expert_user": world.ids["facilitator"]}
