"""Applying, editing, withdrawing and deciding; confidentiality; the one-per-challenge race (T7)."""
from __future__ import annotations

import threading
from datetime import date, timedelta

import sqlalchemy as sa

from proeftuin.enums import ApplicationStatus, ChallengeStatus, OrgKind, Role
from proeftuin.extensions import db
from proeftuin.models import Application, Challenge, Organisation
from tests.conftest import USING_POSTGRES, login, make_challenge, make_org, make_user, outbox_messages

PROPOSAL = "We install counting cameras near the school gate and report weekly for three months."


def test_startup_applies_once_and_follows_the_decision(app, world):
    startup = app.test_client()
    login(startup, world.emails["suB"])
    url = f"/challenges/{world.ids['published']}/apply"
    response = startup.post(url, data={"proposal": PROPOSAL})
    assert response.status_code == 302
    application_id = int(response.location.rsplit("/", 1)[1])
    # A second application is refused: the start-up is sent to the one it has.
    assert startup.get(url).location.endswith(f"/applications/{application_id}")
    assert startup.post(url, data={"proposal": PROPOSAL}).status_code == 302

    municipality = app.test_client()
    login(municipality, world.emails["muniA"])
    listing = municipality.get(f"/challenges/{world.ids['published']}/applications").get_data(as_text=True)
    assert "Startup B" in listing and "Startup A" in listing
    municipality.post(f"/applications/{application_id}/decision",
                      data={"decision": "shortlist", "message": "We would like to meet you."})
    municipality.post(f"/applications/{application_id}/decision", data={"decision": "select", "message": "Selected!"})

    page = startup.get(f"/applications/{application_id}").get_data(as_text=True)
    assert "Selected!" in page
    # Both sides heard of it by mail: the municipality of the application, the start-up of each decision.
    mails = outbox_messages(app)
    to_municipality = [m for m in mails if world.emails["muniA"] in m]
    to_startup = [m for m in mails if world.emails["suB"] in m]
    assert len(to_municipality) == 1 and f"/applications/{application_id}" in to_municipality[0]
    assert len(to_startup) == 2
    assert "Startup B" in startup.get("/applications/").get_data(as_text=True) or "Open challenge of Gent" in page
    with app.app_context():
        application = db.session.get(Application, application_id)
        assert application.status == ApplicationStatus.SELECTED and application.decided_at is not None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Application).where(
            Application.challenge_id == world.ids["published"])) == 2


def test_short_proposal_is_refused_and_kept(app, world):
    client = app.test_client()
    login(client, world.emails["suB"])
    page = client.post(f"/challenges/{world.ids['published']}/apply", data={"proposal": "Too short"})
    assert page.status_code == 200 and "Too short" in page.get_data(as_text=True)


def test_edit_until_the_deadline_then_no_more(app, world):
    client = app.test_client()
    login(client, world.emails["suA"])
    url = f"/applications/{world.ids['application']}/edit"
    assert client.post(url, data={"proposal": PROPOSAL + " Edited."}).status_code == 302
    with app.app_context():
        challenge = db.session.get(Challenge, world.ids["published"])
        challenge.deadline = date.today() - timedelta(days=1)
        db.session.commit()
    client.post(url, data={"proposal": PROPOSAL + " Too late."})
    with app.app_context():
        assert db.session.get(Application, world.ids["application"]).proposal.endswith("Edited.")


def test_withdraw(app, world):
    client = app.test_client()
    login(client, world.emails["suA"])
    client.post(f"/applications/{world.ids['application']}/withdraw")
    with app.app_context():
        assert db.session.get(Application, world.ids["application"]).status == ApplicationStatus.WITHDRAWN
    # Withdrawn is final: no second withdraw and no decision on it.
    municipality = app.test_client()
    login(municipality, world.emails["muniA"])
    municipality.post(f"/applications/{world.ids['application']}/decision", data={"decision": "select"})
    with app.app_context():
        assert db.session.get(Application, world.ids["application"]).status == ApplicationStatus.WITHDRAWN


def test_no_applications_to_drafts_or_closed_challenges(app, world):
    with app.app_context():
        gent = db.session.get(Organisation, world.ids["org_muniA"])
        closed_id = make_challenge(gent, "Closed", ChallengeStatus.CLOSED).id
        db.session.commit()
    client = app.test_client()
    login(client, world.emails["suB"])
    assert client.post(f"/challenges/{world.ids['draft']}/apply", data={"proposal": PROPOSAL}).status_code == 404
    client.post(f"/challenges/{closed_id}/apply", data={"proposal": PROPOSAL})
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Application).where(
            Application.organisation_id == world.ids["org_suB"])) == 0


def test_other_parties_cannot_read_or_change_an_application(app, world):
    marker = world.markers["application"]
    for principal in ("suB", "muniB"):
        client = app.test_client()
        login(client, world.emails[principal])
        read = client.get(f"/applications/{world.ids['application']}")
        missing = client.get("/applications/999999")
        assert read.status_code == missing.status_code == 404
        same_page = read.get_data(as_text=True).replace(f"/applications/{world.ids['application']}", "/X")
        assert same_page == missing.get_data(as_text=True).replace("/applications/999999", "/X")
        assert marker not in read.get_data(as_text=True)
    client = app.test_client()
    login(client, world.emails["suB"])
    assert client.post(f"/applications/{world.ids['application']}/edit", data={"proposal": PROPOSAL}).status_code == 404
    assert client.post(f"/applications/{world.ids['application']}/withdraw").status_code == 404
    municipality = app.test_client()
    login(municipality, world.emails["muniB"])
    assert municipality.post(f"/applications/{world.ids['application']}/decision",
                             data={"decision": "reject"}).status_code == 404
    assert municipality.get(f"/challenges/{world.ids['published']}/applications").status_code == 404
    with app.app_context():
        application = db.session.get(Application, world.ids["application"])
        assert application.status == ApplicationStatus.SUBMITTED and marker in application.proposal


def test_extra_form_fields_cannot_change_protected_columns(app, world):
    client = app.test_client()
    login(client, world.emails["suA"])
    client.post(f"/applications/{world.ids['application']}/edit", data={
        "proposal": PROPOSAL, "status": "selected", "organisation_id": world.ids["org_suB"],
        "challenge_id": 999})
    with app.app_context():
        application = db.session.get(Application, world.ids["application"])
        assert application.status == ApplicationStatus.SUBMITTED
        assert application.organisation_id == world.ids["org_suA"]
        assert application.challenge_id == world.ids["published"]


def test_twenty_parallel_applications_give_exactly_one(make_app, tmp_path):
    """T7: one start-up, twenty simultaneous POSTs to one challenge."""
    uri = None if USING_POSTGRES else f"sqlite:///{tmp_path / 'race.sqlite'}"
    app = make_app(**({"SQLALCHEMY_DATABASE_URI": uri} if uri else {}))
    with app.app_context():
        gent = make_org(OrgKind.MUNICIPALITY, "Gent", "44021")
        startup = make_org(OrgKind.STARTUP, "Racer")
        make_user("racer@example.org", Role.STARTUP, startup)
        challenge_id = make_challenge(gent, "Race target").id
        db.session.commit()
    clients = []
    for _ in range(20):
        client = app.test_client()
        login(client, "racer@example.org")
        clients.append(client)
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def post(client):
        barrier.wait()
        response = client.post(f"/challenges/{challenge_id}/apply", data={"proposal": PROPOSAL})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=post, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(statuses) == 20
    assert all(status in (302, 303, 409) for status in statuses), statuses
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Application)) == 1
