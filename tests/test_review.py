"""Facilitators review suggested matches: decisions, introductions, notifications, audit."""
from __future__ import annotations

import sqlalchemy as sa

from proeftuin.enums import SuggestionStatus
from proeftuin.extensions import db
from proeftuin.models import AuditEvent, Challenge, MatchSuggestion, Notification, StartupProfile, User
from proeftuin.services import matching
from proeftuin.services import suggestions as suggestion_service
from tests.conftest import login, outbox_messages


def _suggest(app, world) -> dict[int, int]:
    """Let the engine propose start-ups for A's published challenge; profile id -> suggestion id."""
    with app.app_context():
        matching.rebuild()
        suggestion_service.refresh_suggestions(db.session.get(Challenge, world.ids["published"]))
        rows = db.session.scalars(sa.select(MatchSuggestion)).all()
        return {r.profile_id: r.id for r in rows}


def test_queue_lists_the_engines_suggestions_with_reasons(app, world):
    ids = _suggest(app, world)
    assert set(ids) == {world.ids["profile"], world.ids["profile_b"]}
    client = app.test_client()
    login(client, world.emails["facilitator"])
    page = client.get("/review/").get_data(as_text=True)
    assert "Open challenge of Gent" in page and "Startup A" in page and "Startup B" in page
    assert "review.js" in page
    assert client.get("/review/?band=bogus").status_code == 400
    assert client.get("/review/?status=accepted").get_data(as_text=True).count('class="review-item"') == 0


def test_accepting_introduces_both_parties(app, world):
    ids = _suggest(app, world)
    suggestion_id = ids[world.ids["profile"]]
    client = app.test_client()
    login(client, world.emails["facilitator"])
    response = client.post("/review/decide", data={"ids": [suggestion_id], "decision": "accept"})
    assert response.status_code == 302
    with app.app_context():
        row = db.session.get(MatchSuggestion, suggestion_id)
        assert row.status == SuggestionStatus.ACCEPTED and row.reviewer_id == world.ids["facilitator"]
        notified = set(db.session.scalars(sa.select(Notification.user_id)))
        assert notified == {world.ids["muniA"], world.ids["suA"]}
        assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "match.accept"))
    mails = outbox_messages(app)
    assert any(world.emails["muniA"] in m for m in mails) and any(world.emails["suA"] in m for m in mails)
    # Both parties now see each other's contact on the match page; nobody else does.
    for principal, other in (("muniA", world.emails["suA"]), ("suA", world.emails["muniA"])):
        party = app.test_client()
        login(party, world.emails[principal])
        page = party.get(f"/matches/{suggestion_id}").get_data(as_text=True)
        assert other in page
        assert "/notifications/" in party.get("/").get_data(as_text=True)
    for outsider in ("muniB", "suB"):
        stranger = app.test_client()
        login(stranger, world.emails[outsider])
        assert stranger.get(f"/matches/{suggestion_id}").status_code == 404


def test_reject_needs_a_reason_and_is_not_proposed_again(app, world):
    ids = _suggest(app, world)
    suggestion_id = ids[world.ids["profile_b"]]
    client = app.test_client()
    login(client, world.emails["facilitator"])
    client.post("/review/decide", data={"ids": [suggestion_id], "decision": "reject"})
    with app.app_context():
        assert db.session.get(MatchSuggestion, suggestion_id).status == SuggestionStatus.PROPOSED
    client.post("/review/decide", data={"ids": [suggestion_id], "decision": "reject", "reason_code": "off_topic",
                                        "reason": "Different field."})
    with app.app_context():
        challenge = db.session.get(Challenge, world.ids["published"])
        suggestion_service.refresh_suggestions(challenge)
        row = db.session.get(MatchSuggestion, suggestion_id)
        assert row.status == SuggestionStatus.REJECTED and row.reason_code == "off_topic"
        # The start-up rewrites its profile: the pair may be proposed again.
        profile = db.session.get(StartupProfile, world.ids["profile_b"])
        profile.capabilities = "We now count cyclists near schools with radar."
        db.session.commit()
        matching.sync_object(profile)
        suggestion_service.refresh_suggestions(challenge)
        assert db.session.get(MatchSuggestion, suggestion_id).status == SuggestionStatus.PROPOSED


def test_bulk_needs_info_notifies_the_startups_and_final_decisions_stay(app, world):
    ids = _suggest(app, world)
    client = app.test_client()
    login(client, world.emails["facilitator"])
    client.post("/review/decide", data={"ids": list(ids.values()), "decision": "needs_info",
                                        "reason": "Which cities did you work for?"})
    with app.app_context():
        statuses = set(db.session.scalars(sa.select(MatchSuggestion.status)))
        assert statuses == {SuggestionStatus.NEEDS_INFO}
        texts = db.session.scalars(sa.select(Notification.text)).all()
        assert len(texts) == 2 and all("Which cities did you work for?" in t for t in texts)
    client.post("/review/decide", data={"ids": [ids[world.ids["profile"]]], "decision": "accept"})
    again = client.post("/review/decide", data={"ids": [ids[world.ids["profile"]]], "decision": "reject",
                                                "reason": "changed my mind"}, follow_redirects=True)
    assert again.status_code == 200
    with app.app_context():
        assert db.session.get(MatchSuggestion, ids[world.ids["profile"]]).status == SuggestionStatus.ACCEPTED


def test_notifications_are_private_and_can_be_marked_read(app, world):
    ids = _suggest(app, world)
    facilitator = app.test_client()
    login(facilitator, world.emails["facilitator"])
    facilitator.post("/review/decide", data={"ids": [ids[world.ids["profile"]]], "decision": "accept"})
    startup = app.test_client()
    login(startup, world.emails["suA"])
    assert "Introduction" in startup.get("/notifications/").get_data(as_text=True) or \
        "Kennismaking" in startup.get("/notifications/").get_data(as_text=True)
    other = app.test_client()
    login(other, world.emails["suB"])
    assert "Open challenge of Gent" not in other.get("/notifications/").get_data(as_text=True)
    startup.post("/notifications/read")
    with app.app_context():
        user = db.session.get(User, world.ids["suA"])
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
            Notification.user_id == user.id, Notification.read_at.is_(None))) == 0
