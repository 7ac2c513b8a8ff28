"""Consent to take part in an experiment: an organisation added is invited, sees only the invitation,
hears nothing of the experiment's activity, and becomes a party only when one of its members accepts."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from proeftuin.enums import ExperimentStatus, ParticipationState
from proeftuin.extensions import db
from proeftuin.models import AuditEvent, Experiment, Organisation, StartupParticipation, User
from proeftuin.services import Conflict
from proeftuin.services import experiments as experiment_service
from tests import test_experiments as ex
from tests.conftest import outbox_messages

HYPOTHESIS = "Fewer cars stop at the gate."  # what make_experiment writes: a party's detail


def invite(client, experiment_id: int, organisation_id: int, follow: bool = False):
    return client.post(f"/experiments/{experiment_id}/invitations", data={"organisation": str(organisation_id)},
                       follow_redirects=follow)


def leuven_id(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Organisation.id).where(Organisation.name == "Leuven"))


def mails_to(app, email: str) -> list[str]:
    return [m for m in outbox_messages(app) if f"To: {email}" in m]


def audit_actions(app, experiment_id: int) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent.action).where(
            AuditEvent.object_type == "Experiment", AuditEvent.object_id == experiment_id).order_by(AuditEvent.id)))


def test_an_invited_startup_sees_the_invitation_but_not_the_experiment(app, world):
    experiment_id = ex.make_experiment(app, world, ExperimentStatus.RUNNING, kpi=True, measured=True)
    url = f"/experiments/{experiment_id}"
    municipality = ex.signed_in(app, world, "muniA")
    assert invite(municipality, experiment_id, world.ids["org_suB"]).status_code == 302
    state = ex.load(app, experiment_id)
    assert state["invited"] == ["Startup B"] and state["startups"] == ["Startup A"]  # not a party yet
    assert state["events"][-1] == "invitation" and audit_actions(app, experiment_id)[-1] == "experiment.invite"
    assert ex.notifications_of(app, world.ids["suB"]) == [("experiment.invited", url)]
    manager_page = municipality.get(url).get_data(as_text=True)
    parties = manager_page[manager_page.index('id="parties"'):manager_page.index('id="parties"') + 600]
    assert "Startup B" in parties and "Invited" in parties

    invited = ex.signed_in(app, world, "suB")
    listing = invited.get("/experiments/").get_data(as_text=True)
    assert "Invitations for your organisation" in listing and "Pilot school streets" in listing
    assert "invited by munia (Gent)" in listing
    assert "0 experiments" in listing  # it is no party, so not among its experiments
    page = invited.get(url)
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Pilot school streets" in body and "munia (Gent) invites Startup B" in body and "as a start-up" in body
    assert "Open challenge of Gent" in body and "Accept the invitation" in body
    assert f'action="{url}/accept"' in body and f'action="{url}/decline"' in body
    for secret in (HYPOTHESIS, "Cars at the gate", 'id="timeline"', 'id="kpis"', "sua@example.org"):
        assert secret not in body
    # nothing beyond the invitation: the other routes answer as to a stranger
    assert invited.get(f"{url}/edit").status_code == 404
    assert invited.post(f"{url}/notes", data={"text": "hello"}).status_code == 404
    assert invited.post(f"{url}/status", data={"target": "stopped", "reason": "x"}).status_code == 404
    # the invitation mail says what and who, not the plan
    mails = mails_to(app, world.emails["suB"])
    # The invited start-up's member reads Dutch (the default locale), so the mail is in Dutch.
    assert len(mails) == 1 and "Subject: Uitnodiging voor het experiment Pilot school streets" in mails[0]
    assert HYPOTHESIS not in mails[0]


def test_activity_is_mailed_to_an_invited_organisation_only_after_it_accepts(app, world):
    experiment_id = ex.make_experiment(app, world, ExperimentStatus.PLANNED, kpi=True)
    url = f"/experiments/{experiment_id}"
    municipality = ex.signed_in(app, world, "muniA")
    invite(municipality, experiment_id, world.ids["org_suB"])
    invitation_mails = len(mails_to(app, world.emails["suB"]))
    assert invitation_mails == 1

    ex.status(municipality, experiment_id, "running")
    assert ("experiment.status", url) in ex.notifications_of(app, world.ids["suA"])  # the party hears it
    assert ex.notifications_of(app, world.ids["suB"]) == [("experiment.invited", url)]
    assert len(mails_to(app, world.emails["suB"])) == invitation_mails

    invited = ex.signed_in(app, world, "suB")
    response = invited.post(f"{url}/accept")
    assert response.status_code == 302 and response.location.endswith(url)
    page = invited.get(url).get_data(as_text=True)
    assert HYPOTHESIS in page and "Record a measurement" in page  # a start-up party now
    assert "Pilot school streets" in invited.get("/experiments/").get_data(as_text=True)
    state = ex.load(app, experiment_id)
    assert state["startups"] == ["Startup A", "Startup B"] and state["invited"] == []
    assert state["events"][-1] == "invitation.accepted"
    assert audit_actions(app, experiment_id)[-1] == "experiment.invitation_accept"
    assert ex.notifications_of(app, world.ids["muniA"])[-1] == ("experiment.invitation_accepted", url)
    assert any("Startup B accepted the invitation" in m for m in mails_to(app, world.emails["muniA"]))
    # accepting twice finds no invitation
    assert invited.post(f"{url}/accept").status_code == 404

    municipality.post(f"{url}/decision", data={"decision": "go"})
    assert ex.notifications_of(app, world.ids["suB"])[-1] == ("experiment.decision", url)
    later = mails_to(app, world.emails["suB"])
    assert len(later) == invitation_mails + 1 and any("Subject: Decision on" in m for m in later)


def test_declining_tells_the_inviter_and_the_organisation_can_be_invited_again(app, world):
    experiment_id = ex.make_experiment(app, world)
    url = f"/experiments/{experiment_id}"
    staff = ex.signed_in(app, world, "facilitator")
    assert invite(staff, experiment_id, leuven_id(app)).status_code == 302
    leuven = ex.signed_in(app, world, "muniB")
    assert "as a municipality" in leuven.get(url).get_data(as_text=True)

    response = leuven.post(f"{url}/decline", follow_redirects=True)
    assert response.status_code == 200 and "You declined the invitation" in response.get_data(as_text=True)
    assert ex.notifications_of(app, world.ids["facilitator"])[-1] == ("experiment.invitation_declined", url)
    assert any("Leuven declined the invitation" in m for m in mails_to(app, world.emails["facilitator"]))
    assert ex.load(app, experiment_id)["events"][-1] == "invitation.declined"
    assert audit_actions(app, experiment_id)[-1] == "experiment.invitation_decline"
    assert leuven.get(url).status_code == 404
    assert "Invitations for your organisation" not in leuven.get("/experiments/").get_data(as_text=True)
    edit = ex.signed_in(app, world, "muniA").get(f"{url}/edit").get_data(as_text=True)
    assert "Leuven (declined)" in edit

    assert invite(staff, experiment_id, leuven_id(app)).status_code == 302  # a new invitation
    assert leuven.get(url).status_code == 200
    with app.app_context():
        row = db.session.get(Experiment, experiment_id).municipality_participations
        again = next(p for p in row if p.organisation_id == leuven_id(app))
        assert again.state == ParticipationState.INVITED and again.decided_at is None


@pytest.mark.parametrize("key, expected", [("suB", 404), ("suA", 404), ("muniA", 404), ("facilitator", 403)])
def test_only_an_invited_organisation_can_accept_or_decline(app, world, key, expected):
    experiment_id = ex.make_experiment(app, world)
    url = f"/experiments/{experiment_id}"
    ex.signed_in(app, world, "muniA").post(f"{url}/invitations", data={"organisation": str(leuven_id(app))})
    client = ex.signed_in(app, world, key)
    assert client.post(f"{url}/accept").status_code == expected
    assert client.post(f"{url}/decline").status_code == expected
    assert client.post("/experiments/99999/accept").status_code == expected
    assert ex.load(app, experiment_id)["invited"] == ["Leuven"]


def test_inviting_twice_or_a_party_is_refused(app, world):
    experiment_id = ex.make_experiment(app, world)
    municipality = ex.signed_in(app, world, "muniA")
    invite(municipality, experiment_id, world.ids["org_suB"])
    again = invite(municipality, experiment_id, world.ids["org_suB"])
    body = again.get_data(as_text=True)
    assert again.status_code == 200 and "Startup B is already invited to this experiment." in body
    assert 'aria-invalid="true"' in body
    party = invite(municipality, experiment_id, world.ids["org_suA"]).get_data(as_text=True)
    assert "Startup A already takes part in this experiment." in party
    staff_org = invite(municipality, experiment_id, 99999).get_data(as_text=True)
    assert "Choose from the listed organisations." in staff_org
    assert ex.load(app, experiment_id)["events"] == ["invitation"]
    assert len(ex.notifications_of(app, world.ids["suB"])) == 1
    # a start-up party contributes but does not invite
    assert ex.signed_in(app, world, "suA").post(f"/experiments/{experiment_id}/invitations",
                                                data={"organisation": str(leuven_id(app))}).status_code == 403
    with app.test_request_context(), pytest.raises(Conflict):
        experiment_service.invite(db.session.get(User, world.ids["facilitator"]), experiment_id,
                                  world.ids["org_suB"])


def test_the_plan_form_invites_and_an_experiment_waits_for_a_startup_to_accept(app, world):
    client = ex.signed_in(app, world, "muniA")
    data = dict(ex.FORM, challenge=str(world.ids["published"]), startups=[str(world.ids["org_suA"])],
                start_date="2030-05-01", end_date="2030-06-01")
    experiment_id = int(client.post("/experiments/new", data=data).location.rsplit("/", 1)[1])
    url = f"/experiments/{experiment_id}"
    body = ex.status(client, experiment_id, "planned").get_data(as_text=True)
    assert "No start-up has accepted its invitation yet." in body
    assert ex.load(app, experiment_id)["status"] == ExperimentStatus.PROPOSED

    # ticking more organisations invites them; the ticked invitations stay invitations
    plan = dict(ex.FORM, startups=[str(world.ids["org_suA"]), str(world.ids["org_suB"])],
                municipalities=[str(world.ids["org_muniA"]), str(leuven_id(app))],
                start_date="2030-05-01", end_date="2030-06-01")
    assert client.post(f"{url}/edit", data=plan).status_code == 302
    state = ex.load(app, experiment_id)
    assert state["invited"] == ["Leuven", "Startup A", "Startup B"] and state["municipalities"] == ["Gent"]
    assert state["events"] == ["created", "invitation", "plan", "invitation", "invitation"]
    form = client.get(f"{url}/edit").get_data(as_text=True)
    assert "Startup B (invited)" in form
    # unticking withdraws an invitation
    assert client.post(f"{url}/edit", data=dict(plan, startups=[str(world.ids["org_suA"])])).status_code == 302
    assert ex.load(app, experiment_id)["invited"] == ["Leuven", "Startup A"]
    assert ex.signed_in(app, world, "suB").get(url).status_code == 404

    ex.signed_in(app, world, "suA").post(f"{url}/accept")
    ex.status(client, experiment_id, "planned")
    assert ex.load(app, experiment_id)["status"] == ExperimentStatus.PLANNED


def test_a_closed_experiment_can_only_be_declined(app, world):
    experiment_id = ex.make_experiment(app, world)
    url = f"/experiments/{experiment_id}"
    invite(ex.signed_in(app, world, "muniA"), experiment_id, world.ids["org_suB"])
    with app.app_context():
        db.session.get(Experiment, experiment_id).status = ExperimentStatus.STOPPED
        db.session.commit()
    invited = ex.signed_in(app, world, "suB")
    page = invited.get(url).get_data(as_text=True)
    assert "the invitation can only be declined" in page and f'action="{url}/accept"' not in page
    refused = invited.post(f"{url}/accept", follow_redirects=True).get_data(as_text=True)
    assert "the invitation can only be declined" in refused
    assert ex.load(app, experiment_id)["startups"] == ["Startup A"]
    assert invited.post(f"{url}/decline").status_code == 302
    with app.app_context():
        row = db.session.get(StartupParticipation, (experiment_id, world.ids["org_suB"]))
        assert row.state == ParticipationState.DECLINED


def test_an_unverified_municipality_cannot_invite_anyone(app, world):
    experiment_id = ex.make_experiment(app, world, ExperimentStatus.RUNNING)
    with app.app_context():
        db.session.get(Organisation, world.ids["org_muniA"]).verified_at = None
        db.session.commit()
    municipality = ex.signed_in(app, world, "muniA")
    response = invite(municipality, experiment_id, world.ids["org_suB"], follow=True)
    assert response.status_code == 403, response.status_code
    assert ex.load(app, experiment_id)["invited"] == []
    assert mails_to(app, world.emails["suB"]) == []


def test_an_unverified_startup_cannot_be_invited(app, world):
    experiment_id = ex.make_experiment(app, world, ExperimentStatus.RUNNING)
    with app.app_context():
        db.session.get(Organisation, world.ids["org_suB"]).verified_at = None
        db.session.commit()
    facilitator = ex.signed_in(app, world, "facilitator")
    page = facilitator.get(f"/experiments/{experiment_id}").get_data(as_text=True)
    assert f'value="{world.ids["org_suB"]}"' not in page  # not offered
    invite(facilitator, experiment_id, world.ids["org_suB"])
    assert ex.load(app, experiment_id)["invited"] == []
    assert mails_to(app, world.emails["suB"]) == []
