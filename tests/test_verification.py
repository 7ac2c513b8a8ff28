"""Verification means something: an unverified municipality's challenges stay private, an unverified
start-up is marked and cannot be introduced (issue 7)."""
from __future__ import annotations

import sqlalchemy as sa

from proeftuin.enums import ApplicationStatus, ChallengeStatus, OrgKind, Role, SuggestionStatus
from proeftuin.extensions import db
from proeftuin.models import Application, Challenge, MatchSuggestion, Notification, Organisation, StartupProfile
from proeftuin.services import matching
from proeftuin.services import suggestions as suggestion_service
from tests.conftest import login, make_challenge, make_org, make_profile, make_user, outbox_messages

PROPOSAL = "We install counting cameras near the school gate and report weekly for three months."
UNVERIFIED_MARK = "not yet verified"


def english(app, email: str | None = None):
    """A client that reads English (the session's language survives the log-in)."""
    client = app.test_client()
    client.post("/language", data={"locale": "en"})
    if email:
        assert login(client, email).status_code == 302
    return client


def _unverified_municipality(app, title="Hidden challenge of Mechelen", status=ChallengeStatus.PUBLISHED) -> dict:
    with app.app_context():
        mechelen = make_org(OrgKind.MUNICIPALITY, "Mechelen", "12025", verified=False)
        user = make_user("it@mechelen.be", Role.MUNICIPALITY, mechelen)
        challenge = make_challenge(mechelen, title, status)
        db.session.commit()
        return {"org": mechelen.id, "user": user.id, "email": user.email, "challenge": challenge.id}


def _unverified_startup(app, name="Fresh start-up") -> dict:
    with app.app_context():
        org = make_org(OrgKind.STARTUP, name, verified=False)
        user = make_user("founder@fresh.example", Role.STARTUP, org)
        profile = make_profile(org, "Sensors for school streets too", "We count traffic near schools as well.")
        db.session.commit()
        return {"org": org.id, "email": user.email, "profile": profile.id, "slug": org.slug}


def test_unverified_municipality_challenge_is_hidden_until_verified(app, world):
    hidden = _unverified_municipality(app)
    url = f"/challenges/{hidden['challenge']}"
    # Anonymous visitors and start-ups: 404, and the challenge is nowhere in the lists.
    for email in (None, world.emails["suA"], world.emails["muniB"]):
        client = english(app, email)
        assert client.get(url).status_code == 404
        apply = client.get(f"{url}/apply")
        assert apply.status_code in (403, 404) or "/auth/login" in apply.location
        for listing in ("/challenges/", "/", "/challenges/?q=Mechelen"):
            assert "Hidden challenge of Mechelen" not in client.get(listing).get_data(as_text=True)
    # Its own members and staff read it, with the reason it is not public.
    for email in (hidden["email"], world.emails["facilitator"], world.emails["admin"]):
        page = english(app, email).get(url)
        assert page.status_code == 200
        assert "Not public: Mechelen is not verified yet" in page.get_data(as_text=True)
    english(app, world.emails["admin"]).post(f"/admin/organisations/{hidden['org']}/verify")
    assert app.test_client().get(url).status_code == 200
    assert "Hidden challenge of Mechelen" in app.test_client().get("/challenges/").get_data(as_text=True)


def test_unverified_municipality_drafts_publishes_and_uses_guidance_but_stays_hidden(app, world):
    hidden = _unverified_municipality(app, "Draft of Mechelen", ChallengeStatus.DRAFT)
    owner = english(app, hidden["email"])
    mine = owner.get("/challenges/mine").get_data(as_text=True)
    assert "Mechelen is not verified yet." in mine and "nothing you write is public" in mine
    assert owner.get(f"/challenges/{hidden['challenge']}/guidance").status_code == 200
    response = owner.post(f"/challenges/{hidden['challenge']}/status", data={"action": "publish"},
                          follow_redirects=True)
    assert "stays hidden from start-ups until your municipality is verified" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Challenge, hidden["challenge"]).status == ChallengeStatus.PUBLISHED
    assert app.test_client().get(f"/challenges/{hidden['challenge']}").status_code == 404


def test_unverified_municipality_challenges_reach_no_startup(app, world):
    hidden = _unverified_municipality(app, "Traffic counting near school streets in Mechelen")
    with app.app_context():
        matching.rebuild()
        challenge = db.session.get(Challenge, hidden["challenge"])
        assert suggestion_service.refresh_suggestions(challenge) == 0
        profile = db.session.get(StartupProfile, world.ids["profile"])
        recommended = {s.target.id for s in suggestion_service.challenges_for_profile(profile, k=20)}
        assert hidden["challenge"] not in recommended and world.ids["published"] in recommended
        assert db.session.scalar(sa.select(sa.func.count()).select_from(MatchSuggestion).where(
            MatchSuggestion.challenge_id == hidden["challenge"])) == 0
    startup = english(app, world.emails["suA"])
    page = startup.get("/startups/recommendations").get_data(as_text=True)
    assert "Traffic counting near school streets in Mechelen" not in page
    # Nobody is told about it either: no mail went out.
    assert not any("Mechelen" in m for m in outbox_messages(app))


def test_unverified_startup_applies_and_is_marked_for_the_municipality(app, world):
    fresh = _unverified_startup(app)
    startup = english(app, fresh["email"])
    assert "Fresh start-up is not verified yet." in startup.get("/startups/profile").get_data(as_text=True)
    response = startup.post(f"/challenges/{world.ids['published']}/apply", data={"proposal": PROPOSAL})
    assert response.status_code == 302
    application_id = int(response.location.rsplit("/", 1)[1])
    for email in (world.emails["muniA"], world.emails["facilitator"]):
        reader = english(app, email)
        listing = reader.get(f"/challenges/{world.ids['published']}/applications").get_data(as_text=True)
        row = next(line for line in listing.splitlines() if "Fresh start-up" in line)
        assert UNVERIFIED_MARK in row
        verified_row = next(line for line in listing.splitlines() if "Startup A" in line)
        assert UNVERIFIED_MARK not in verified_row
        detail = reader.get(f"/applications/{application_id}").get_data(as_text=True)
        assert UNVERIFIED_MARK in detail
    startup_page = english(app, world.emails["muniA"]).get(f"/startups/{fresh['slug']}")
    assert UNVERIFIED_MARK in startup_page.get_data(as_text=True)
    assert UNVERIFIED_MARK not in english(app).get(f"/startups/{world.slugs['suA']}").get_data(as_text=True)


def _suggestion(app, challenge_id: int, profile_id: int) -> int:
    with app.app_context():
        row = MatchSuggestion(challenge_id=challenge_id, profile_id=profile_id, status=SuggestionStatus.PROPOSED,
                              score=2.0, rank=1, engine_id="test", challenge_hash="c", profile_hash="p")
        db.session.add(row)
        db.session.commit()
        return row.id


def test_facilitator_cannot_introduce_an_unverified_startup(app, world):
    fresh = _unverified_startup(app)
    suggestion_id = _suggestion(app, world.ids["published"], fresh["profile"])
    facilitator = english(app, world.emails["facilitator"])
    queue = facilitator.get("/review/").get_data(as_text=True)
    assert "Fresh start-up" in queue and UNVERIFIED_MARK in queue
    page = facilitator.post("/review/decide", data={"ids": [suggestion_id], "decision": "accept"},
                            follow_redirects=True).get_data(as_text=True)
    assert "Fresh start-up is not verified yet; verify the start-up before introducing it." in page
    with app.app_context():
        assert db.session.get(MatchSuggestion, suggestion_id).status == SuggestionStatus.PROPOSED
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0
    assert outbox_messages(app) == []


def test_facilitator_cannot_introduce_to_an_unverified_municipality(app, world):
    hidden = _unverified_municipality(app)
    suggestion_id = _suggestion(app, hidden["challenge"], world.ids["profile"])
    facilitator = english(app, world.emails["facilitator"])
    page = facilitator.post("/review/decide", data={"ids": [suggestion_id], "decision": "accept"},
                            follow_redirects=True).get_data(as_text=True)
    assert "Mechelen is not verified yet; verify the municipality before introducing it." in page
    with app.app_context():
        assert db.session.get(MatchSuggestion, suggestion_id).status == SuggestionStatus.PROPOSED


def test_unverified_startups_are_not_proposed_to_facilitators(app, world):
    fresh = _unverified_startup(app)
    with app.app_context():
        matching.rebuild()
        suggestion_service.refresh_suggestions(db.session.get(Challenge, world.ids["published"]))
        proposed = set(db.session.scalars(sa.select(MatchSuggestion.profile_id)))
    assert world.ids["profile"] in proposed and fresh["profile"] not in proposed


def test_rejected_members_see_the_reason(app, world):
    hidden = _unverified_municipality(app)
    admin = english(app, world.emails["admin"])
    admin.post(f"/admin/organisations/{hidden['org']}/reject", data={"reason": "Use your municipal address."})
    owner = english(app, hidden["email"])
    for path in ("/challenges/mine", "/auth/account"):
        assert "Use your municipal address." in owner.get(path).get_data(as_text=True)
    with app.app_context():
        org = db.session.get(Organisation, hidden["org"])
        assert org.verified_at is None and org.verification_state == "rejected"
    assert app.test_client().get(f"/challenges/{hidden['challenge']}").status_code == 404


def test_municipality_without_verification_sends_no_decision_to_startups(app, world):
    admin = english(app, world.emails["admin"])
    admin.post(f"/admin/organisations/{world.ids['org_muniA']}/revoke", data={"reason": "Not the city."})
    before = len(outbox_messages(app))
    owner = english(app, world.emails["muniA"])
    page = owner.post(f"/applications/{world.ids['application']}/decision", data={"decision": "shortlist"},
                      follow_redirects=True).get_data(as_text=True)
    assert "you can decide on applications once it is" in page
    with app.app_context():
        assert db.session.get(Application, world.ids["application"]).status == ApplicationStatus.SUBMITTED
    assert not any(world.emails["suA"] in m for m in outbox_messages(app)[before:])
