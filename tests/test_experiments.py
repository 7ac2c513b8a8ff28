"""Experiments (pilots): opening one, its status machine with guards, KPIs over time, the decision,
the follow-up procurement, the timeline, notifications and who may read or change what."""
from __future__ import annotations

import re
from datetime import date, timedelta

import sqlalchemy as sa

from proeftuin.enums import (
    BuyerGroupStatus,
    ChallengeStatus,
    Decision,
    ExperimentStatus,
    InvitationStatus,
    ParticipationState,
    ProcurementRoute,
    SuggestionStatus,
)
from proeftuin.extensions import db
from proeftuin.models import (
    AuditEvent,
    BuyerGroup,
    BuyerGroupMember,
    Challenge,
    Experiment,
    ExperimentEvent,
    Kpi,
    KpiMeasurement,
    MatchSuggestion,
    MunicipalityParticipation,
    Notification,
    Organisation,
    StartupParticipation,
)
from tests.conftest import login, make_challenge, outbox_messages

TODAY = date.today()


def signed_in(app, world, key: str):
    """A client logged in as `key`, reading English (so assertions do not depend on the nl catalog)."""
    client = app.test_client()
    assert login(client, world.emails[key]).status_code == 302
    client.post("/language", data={"locale": "en"})
    return client


def make_suggestion(app, world, status=SuggestionStatus.ACCEPTED) -> int:
    with app.app_context():
        row = MatchSuggestion(challenge_id=world.ids["published"], profile_id=world.ids["profile"], score=2.0,
                              rank=1, engine_id="test", challenge_hash="c", profile_hash="p", status=status)
        db.session.add(row)
        db.session.commit()
        return row.id


def make_experiment(app, world, status=ExperimentStatus.PROPOSED, *, period=True, kpi=False, measured=False,
                    decision=None, route=None) -> int:
    """Gent's open challenge tried with Startup A, opened by the facilitator."""
    with app.app_context():
        experiment = Experiment(
            title="Pilot school streets", challenge_id=world.ids["published"],
            hypothesis="Fewer cars stop at the gate.", status=status, created_by_id=world.ids["facilitator"],
            start_date=TODAY - timedelta(days=20) if period else None,
            end_date=TODAY + timedelta(days=70) if period else None,
            decision=decision, procurement_route=route,
            startup_participations=[StartupParticipation(organisation_id=world.ids["org_suA"])],
            municipality_participations=[MunicipalityParticipation(organisation_id=world.ids["org_muniA"])],
        )
        if kpi:
            row = Kpi(name="Cars at the gate", unit="cars", baseline=120, target=60, higher_is_better=False)
            if measured:
                row.measurements.append(KpiMeasurement(measured_on=TODAY - timedelta(days=5), value=90,
                                                       recorded_by_id=world.ids["suA"]))
            experiment.kpis.append(row)
        db.session.add(experiment)
        db.session.commit()
        return experiment.id


def load(app, experiment_id: int) -> dict:
    with app.app_context():
        e = db.session.get(Experiment, experiment_id)
        return {
            "status": e.status, "decision": e.decision, "challenge_status": e.challenge.status,
            "route": e.procurement_route, "value": e.procurement_value, "awarded": e.procurement_awarded,
            "events": [ev.kind for ev in sorted(e.events, key=lambda ev: ev.id)],
            "municipalities": sorted(o.name for o in e.municipalities),
            "startups": sorted(o.name for o in e.startups),
            "invited": sorted(p.organisation.name for p in [*e.startup_participations, *e.municipality_participations]
                              if p.state == ParticipationState.INVITED),
            "kpis": [(k.name, k.baseline, k.target, [m.value for m in k.measurements]) for k in e.kpis],
        }


def notifications_of(app, user_id: int) -> list[tuple[str, str]]:
    with app.app_context():
        rows = db.session.scalars(sa.select(Notification).where(Notification.user_id == user_id)
                                  .order_by(Notification.id)).all()
        return [(n.kind, n.link) for n in rows]


def status(client, experiment_id: int, target: str, reason: str | None = None, follow: bool = True):
    data = {"target": target}
    if reason is not None:
        data["reason"] = reason
    return client.post(f"/experiments/{experiment_id}/status", data=data, follow_redirects=follow)


FORM = {
    "title": "School street sensors in Gent",
    "hypothesis": "With counting sensors at the gate, fewer cars stop there within three months.",
    "start_date": (TODAY + timedelta(days=10)).isoformat(),
    "end_date": (TODAY + timedelta(days=100)).isoformat(),
    "budget": "25000",
    "ip_terms": "The start-up keeps its IP; the city may use the data.",
    "equipment_terms": "", "data_terms": "",
}


# ---- opening an experiment -----------------------------------------------------------------

def test_facilitator_opens_an_experiment_from_an_accepted_match(app, world):
    suggestion_id = make_suggestion(app, world)
    client = signed_in(app, world, "facilitator")
    match_page = client.get(f"/matches/{suggestion_id}").get_data(as_text=True)
    assert f"/experiments/new?suggestion={suggestion_id}" in match_page
    assert "Open an experiment for this pair" in match_page

    page = client.get(f"/experiments/new?suggestion={suggestion_id}").get_data(as_text=True)
    # prefilled: the challenge selected, Startup A and Gent ticked, the pair in the title
    assert re.search(rf'<option selected value="{world.ids["published"]}"|'
                     rf'<option value="{world.ids["published"]}" selected', page)
    assert re.search(rf'checked[^>]*value="{world.ids["org_suA"]}"|value="{world.ids["org_suA"]}"[^>]*checked', page)
    assert re.search(rf'checked[^>]*value="{world.ids["org_muniA"]}"|value="{world.ids["org_muniA"]}"[^>]*checked',
                     page)
    assert "Open challenge of Gent \u2013 Startup A" in page
    assert "From the accepted match" in page

    data = dict(FORM, challenge=str(world.ids["published"]), startups=[str(world.ids["org_suA"])],
                municipalities=[str(world.ids["org_muniA"])], suggestion_id=str(suggestion_id))
    response = client.post("/experiments/new", data=data)
    assert response.status_code == 302
    experiment_id = int(response.location.rsplit("/", 1)[1])
    with app.app_context():
        experiment = db.session.get(Experiment, experiment_id)
        assert experiment.suggestion_id == suggestion_id
        assert experiment.status == ExperimentStatus.PROPOSED and experiment.budget == 25000
        assert experiment.created_by_id == world.ids["facilitator"]
        assert db.session.scalar(sa.select(AuditEvent.action).where(
            AuditEvent.object_type == "Experiment", AuditEvent.object_id == experiment_id)) == "experiment.create"
    state = load(app, experiment_id)
    assert state["events"] == ["created", "invitation"]
    assert state["municipalities"] == ["Gent"] and state["startups"] == [] and state["invited"] == ["Startup A"]
    # the municipality takes part and hears about it; the start-up is invited, in-app and by mail
    assert ("experiment.created", f"/experiments/{experiment_id}") in notifications_of(app, world.ids["muniA"])
    assert notifications_of(app, world.ids["suA"]) == [("experiment.invited", f"/experiments/{experiment_id}")]
    assert any(world.emails["suA"] in m and "School street sensors" in m and "Uitnodiging" in m  # Dutch reader
               for m in outbox_messages(app))
    # opening the form again for the same match points at the existing experiment
    again = client.get(f"/experiments/new?suggestion={suggestion_id}").get_data(as_text=True)
    assert f'href="/experiments/{experiment_id}"' in again


def test_only_an_accepted_match_becomes_an_experiment(app, world):
    proposed = make_suggestion(app, world, SuggestionStatus.PROPOSED)
    staff = signed_in(app, world, "facilitator")
    page = staff.get(f"/experiments/new?suggestion={proposed}")
    assert page.status_code == 200 and "Only an accepted match" in page.get_data(as_text=True)
    # a municipality does not even learn that the suggestion exists
    assert signed_in(app, world, "muniA").get(f"/experiments/new?suggestion={proposed}").status_code == 404
    assert staff.get("/experiments/new?suggestion=abc").status_code == 400
    assert staff.get("/experiments/new?suggestion=99999").status_code == 404


def test_municipality_opens_one_by_hand_for_its_own_challenge(app, world):
    client = signed_in(app, world, "muniA")
    page = client.get("/experiments/new").get_data(as_text=True)
    assert "Open challenge of Gent" in page
    assert "Open challenge of Leuven" not in page  # other municipalities' challenges are not offered
    assert "Draft SECRET" not in page  # nor drafts
    data = dict(FORM, challenge=str(world.ids["published"]), startups=[str(world.ids["org_suA"])])
    response = client.post("/experiments/new", data=data)  # no municipality ticked
    assert response.status_code == 302
    experiment_id = int(response.location.rsplit("/", 1)[1])
    state = load(app, experiment_id)
    assert state["municipalities"] == ["Gent"] and state["startups"] == [] and state["invited"] == ["Startup A"]
    assert ("experiment.invited", f"/experiments/{experiment_id}") in notifications_of(app, world.ids["suA"])
    assert notifications_of(app, world.ids["muniA"]) == []  # the actor's own organisation is not told
    assert "/experiments/new?challenge=" not in page
    prefilled = client.get(f"/experiments/new?challenge={world.ids['published']}").get_data(as_text=True)
    assert 'value="Open challenge of Gent"' in prefilled


def test_municipality_cannot_open_one_for_another_municipalitys_challenge(app, world):
    client = signed_in(app, world, "muniB")
    assert client.get(f"/experiments/new?challenge={world.ids['published']}").status_code == 404
    data = dict(FORM, challenge=str(world.ids["published"]), startups=[str(world.ids["org_suA"])])
    page = client.post("/experiments/new", data=data)
    assert page.status_code == 200 and 'aria-invalid="true"' in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Experiment.id))) == 0
    assert signed_in(app, world, "suA").get("/experiments/new").status_code == 403


def test_invalid_input_keeps_what_was_typed_and_saves_nothing(app, world):
    client = signed_in(app, world, "muniA")
    data = dict(FORM, challenge=str(world.ids["published"]), startups=[str(world.ids["org_suA"])],
                start_date="2030-05-01", end_date="2030-04-01", title="My title that stays")
    page = client.post("/experiments/new", data=data)
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "The end cannot be before the start." in body
    assert 'value="My title that stays"' in body and "fewer cars stop there within three months" in body
    assert 'value="2030-04-01"' in body and "The start-up keeps its IP" in body
    missing = client.post("/experiments/new", data=dict(data, end_date="2030-06-01", startups=[]))
    assert "Choose at least one start-up." in missing.get_data(as_text=True)
    draft = client.post("/experiments/new", data=dict(data, end_date="2030-06-01", challenge=str(world.ids["draft"])))
    assert 'aria-invalid="true"' in draft.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Experiment.id))) == 0


def test_a_confirmed_buyer_group_shares_one_pilot(app, world):
    with app.app_context():
        muni_b = db.session.scalar(sa.select(Organisation).where(Organisation.name == "Leuven"))
        leuven = db.session.scalar(sa.select(Challenge).where(Challenge.organisation_id == muni_b.id))
        third = make_challenge(db.session.get(Organisation, world.ids["org_muniA"]), "Declined one")
        group = BuyerGroup(name="School streets together", status=BuyerGroupStatus.CONFIRMED, members=[
            BuyerGroupMember(challenge_id=world.ids["published"], invitation=InvitationStatus.JOINED),
            BuyerGroupMember(challenge_id=leuven.id, invitation=InvitationStatus.JOINED),
        ])
        proposed = BuyerGroup(name="Not yet", status=BuyerGroupStatus.PROPOSED, members=[
            BuyerGroupMember(challenge_id=third.id, invitation=InvitationStatus.JOINED)])
        db.session.add_all([group, proposed])
        db.session.commit()
        group_id, proposed_id, muni_b_id = group.id, proposed.id, muni_b.id
    staff = signed_in(app, world, "facilitator")
    page = staff.get(f"/experiments/new?buyer_group={group_id}").get_data(as_text=True)
    assert "School streets together" in page
    assert "Declined one" not in page  # only the group's challenges are offered
    data = dict(FORM, challenge=str(world.ids["published"]), startups=[str(world.ids["org_suA"])],
                buyer_group_id=str(group_id))  # no municipality ticked: the group's take part anyway
    response = staff.post("/experiments/new", data=data)
    assert response.status_code == 302
    experiment_id = int(response.location.rsplit("/", 1)[1])
    assert load(app, experiment_id)["municipalities"] == ["Gent", "Leuven"]
    with app.app_context():
        assert db.session.get(Experiment, experiment_id).buyer_group_id == group_id
    # Leuven takes part, so it reads and manages the pilot
    leuven_client = signed_in(app, world, "muniB")
    assert leuven_client.get(f"/experiments/{experiment_id}").status_code == 200
    assert leuven_client.get(f"/experiments/{experiment_id}/edit").status_code == 200
    assert ("experiment.created", f"/experiments/{experiment_id}") in notifications_of(app, world.ids["muniB"])
    # an unconfirmed group cannot share a pilot; a municipality outside the group does not see it
    assert "Only a confirmed buyer group" in staff.get(f"/experiments/new?buyer_group={proposed_id}").get_data(
        as_text=True)
    assert leuven_client.get(f"/experiments/new?buyer_group={proposed_id}").status_code == 404
    assert muni_b_id


# ---- the status machine --------------------------------------------------------------------

def test_the_status_machine_guards_each_step(app, world):
    experiment_id = make_experiment(app, world, period=False)
    client = signed_in(app, world, "muniA")
    url = f"/experiments/{experiment_id}"

    body = status(client, experiment_id, "running").get_data(as_text=True)
    assert "can only move to Planned" in body and load(app, experiment_id)["status"] == ExperimentStatus.PROPOSED

    body = status(client, experiment_id, "planned").get_data(as_text=True)
    assert "Set the start and end date" in body and load(app, experiment_id)["status"] == ExperimentStatus.PROPOSED
    plan = dict(FORM, startups=[str(world.ids["org_suA"])], municipalities=[str(world.ids["org_muniA"])],
                start_date=(TODAY - timedelta(days=10)).isoformat())
    assert client.post(f"{url}/edit", data=plan).status_code == 302
    status(client, experiment_id, "planned")
    assert load(app, experiment_id)["status"] == ExperimentStatus.PLANNED
    # a planned experiment keeps its period
    cleared = client.post(f"{url}/edit", data=dict(plan, end_date=""))
    assert "keeps its end date" in cleared.get_data(as_text=True)

    body = status(client, experiment_id, "running").get_data(as_text=True)
    assert "Add at least one KPI" in body and load(app, experiment_id)["status"] == ExperimentStatus.PLANNED
    client.post(f"{url}/kpis", data={"name": "Cars at the gate", "unit": "cars", "baseline": "120",
                                     "target": "60", "direction": "lower"})
    client.post(f"{url}/kpis", data={"name": "Walking pupils", "unit": "%", "baseline": "30",
                                     "target": "45", "direction": "higher"})
    status(client, experiment_id, "running")
    state = load(app, experiment_id)
    assert state["status"] == ExperimentStatus.RUNNING
    assert state["challenge_status"] == ChallengeStatus.IN_EXPERIMENT

    with app.app_context():
        kpi_ids = [k.id for k in db.session.get(Experiment, experiment_id).kpis]
    client.post(f"{url}/measurements", data={"m-kpi": kpi_ids[0], "m-measured_on": TODAY.isoformat(), "m-value": "80"})
    body = status(client, experiment_id, "evaluated").get_data(as_text=True)
    assert "missing for: Walking pupils" in body and load(app, experiment_id)["status"] == ExperimentStatus.RUNNING
    client.post(f"{url}/measurements", data={"m-kpi": kpi_ids[1], "m-measured_on": TODAY.isoformat(), "m-value": "41"})
    status(client, experiment_id, "evaluated")
    assert load(app, experiment_id)["status"] == ExperimentStatus.EVALUATED

    body = status(client, experiment_id, "procurement").get_data(as_text=True)
    assert "Record a go decision" in body and "Choose the route" in body
    client.post(f"{url}/decision", data={"decision": "go", "note": "Both KPIs moved the right way."})
    body = status(client, experiment_id, "procurement").get_data(as_text=True)
    assert "Record a go decision" not in body and "Choose the route" in body
    assert load(app, experiment_id)["status"] == ExperimentStatus.EVALUATED
    client.post(f"{url}/procurement", data={"route": "innovation_partnership", "value": "250000",
                                            "awarded": "unknown"})
    status(client, experiment_id, "procurement")
    state = load(app, experiment_id)
    assert state["status"] == ExperimentStatus.PROCUREMENT
    assert state["challenge_status"] == ChallengeStatus.COMPLETED
    assert state["route"] == ProcurementRoute.INNOVATION_PARTNERSHIP and state["value"] == 250000
    # refused steps leave no trace; every change does
    assert state["events"] == ["plan", "status.planned", "kpi.added", "kpi.added", "status.running", "measurement",
                               "measurement", "status.evaluated", "decision.go", "procurement",
                               "status.procurement"]


def test_procurement_and_stopped_are_final(app, world):
    experiment_id = make_experiment(app, world, ExperimentStatus.PROCUREMENT, kpi=True, measured=True,
                                    decision=Decision.GO, route=ProcurementRoute.COMPETITIVE_DIALOGUE)
    client = signed_in(app, world, "muniA")
    url = f"/experiments/{experiment_id}"
    for target in ("stopped", "evaluated", "running"):
        body = status(client, experiment_id, target, reason="Why not").get_data(as_text=True)
        assert "its status can no longer change" in body
    assert load(app, experiment_id)["status"] == ExperimentStatus.PROCUREMENT
    edit = client.get(f"{url}/edit", follow_redirects=True).get_data(as_text=True)
    assert "its plan can no longer be changed" in edit
    added = client.post(f"{url}/kpis", data={"name": "Extra", "unit": "x", "target": "1", "direction": "higher"})
    assert "can no longer be changed" in added.get_data(as_text=True)
    assert len(load(app, experiment_id)["kpis"]) == 1
    with app.app_context():
        kpi_id = db.session.scalar(sa.select(Kpi.id).where(Kpi.experiment_id == experiment_id))
    measured = client.post(f"{url}/measurements", data={"m-kpi": kpi_id, "m-measured_on": TODAY.isoformat(),
                                                        "m-value": "50"})
    assert "running or being evaluated" in measured.get_data(as_text=True)
    assert load(app, experiment_id)["kpis"][0][3] == [90]
    # the outcome closure can still be recorded, and notes are always welcome
    assert client.post(f"{url}/procurement", data={"route": "competitive_dialogue", "value": "90000",
                                                   "awarded": "yes"}).status_code == 302
    assert load(app, experiment_id)["awarded"] is True
    assert ("experiment.awarded", url) in notifications_of(app, world.ids["suA"])
    assert client.post(f"{url}/notes", data={"text": "Contract signed."}).status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Contract signed." in page and 'id="status"' not in page  # no next step on a closed experiment


def test_stopping_needs_a_reason_and_completes_a_challenge_only_after_it_ran(app, world):
    client = signed_in(app, world, "muniA")
    proposed = make_experiment(app, world)
    page = status(client, proposed, "stopped", reason="  ", follow=False)
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "Say why the experiment stops." in body and 'aria-invalid="true"' in body
    assert load(app, proposed)["status"] == ExperimentStatus.PROPOSED
    status(client, proposed, "stopped", reason="The start-up left the market.")
    state = load(app, proposed)
    assert state["status"] == ExperimentStatus.STOPPED
    assert state["challenge_status"] == ChallengeStatus.PUBLISHED  # it never ran: the challenge stays open
    assert "The start-up left the market." in client.get(f"/experiments/{proposed}").get_data(as_text=True)

    running = make_experiment(app, world, ExperimentStatus.PLANNED, kpi=True)
    status(client, running, "running")
    assert load(app, running)["challenge_status"] == ChallengeStatus.IN_EXPERIMENT
    status(client, running, "stopped", reason="The sensors did not survive the winter.")
    state = load(app, running)
    assert state["status"] == ExperimentStatus.STOPPED and state["challenge_status"] == ChallengeStatus.COMPLETED
    assert state["events"][-1] == "status.stopped"


def test_challenge_stays_in_experiment_while_another_pilot_runs(app, world):
    client = signed_in(app, world, "muniA")
    first = make_experiment(app, world, ExperimentStatus.PLANNED, kpi=True)
    second = make_experiment(app, world, ExperimentStatus.PLANNED, kpi=True)
    status(client, first, "running")
    status(client, second, "running")
    status(client, first, "stopped", reason="Only one vendor is needed.")
    assert load(app, first)["challenge_status"] == ChallengeStatus.IN_EXPERIMENT
    status(client, second, "stopped", reason="Budget cut.")
    assert load(app, second)["challenge_status"] == ChallengeStatus.COMPLETED


# ---- who may read and change what ----------------------------------------------------------

def test_other_organisations_get_404_and_the_startup_party_only_contributes(app, world):
    experiment_id = make_experiment(app, world, ExperimentStatus.RUNNING, kpi=True, measured=True)
    url = f"/experiments/{experiment_id}"
    with app.app_context():
        kpi_id = db.session.scalar(sa.select(Kpi.id).where(Kpi.experiment_id == experiment_id))
    for key in ("muniB", "suB"):
        other = signed_in(app, world, key)
        assert other.get(url).status_code == 404
        assert other.get(f"{url}/edit").status_code == 404
        assert other.post(f"{url}/status", data={"target": "stopped", "reason": "x"}).status_code == 404
        assert other.post(f"{url}/measurements", data={"m-kpi": kpi_id, "m-measured_on": TODAY.isoformat(),
                                                       "m-value": "1"}).status_code == 404
        assert other.post(f"{url}/notes", data={"text": "hello"}).status_code == 404
        assert "Pilot school streets" not in other.get("/experiments/").get_data(as_text=True)
    assert signed_in(app, world, "muniB").get("/experiments/99999").status_code == 404

    startup = signed_in(app, world, "suA")
    page = startup.get(url).get_data(as_text=True)
    assert "Pilot school streets" in page and "Fewer cars stop at the gate." in page
    assert f'action="/experiments/{experiment_id}/status"' not in page  # no status buttons
    assert "Record a measurement" in page
    assert startup.post(f"{url}/status", data={"target": "stopped", "reason": "x"}).status_code == 403
    assert startup.post(f"{url}/decision", data={"decision": "go"}).status_code == 403
    assert startup.post(f"{url}/kpis", data={"name": "Mine", "unit": "x", "target": "1",
                                             "direction": "higher"}).status_code == 403
    assert startup.get(f"{url}/edit").status_code == 403
    assert load(app, experiment_id)["status"] == ExperimentStatus.RUNNING

    assert startup.post(f"{url}/measurements", data={"m-kpi": kpi_id, "m-measured_on": TODAY.isoformat(),
                                                     "m-value": "75", "m-note": "Counted by hand"}).status_code == 302
    assert startup.post(f"{url}/notes", data={"text": "Sensors installed at both gates."}).status_code == 302
    assert load(app, experiment_id)["kpis"][0][3] == [90, 75]
    assert "Pilot school streets" in startup.get("/experiments/").get_data(as_text=True)


def test_measurements_are_removed_by_their_recorder_or_a_manager(app, world):
    experiment_id = make_experiment(app, world, ExperimentStatus.RUNNING, kpi=True, measured=True)
    url = f"/experiments/{experiment_id}"
    with app.app_context():
        kpi_id = db.session.scalar(sa.select(Kpi.id).where(Kpi.experiment_id == experiment_id))
    municipality = signed_in(app, world, "muniA")
    municipality.post(f"{url}/measurements", data={"m-kpi": kpi_id, "m-measured_on": TODAY.isoformat(),
                                                   "m-value": "70"})
    with app.app_context():
        rows = {m.value: m.id for m in db.session.scalars(sa.select(KpiMeasurement))}
    startup = signed_in(app, world, "suA")
    assert startup.post(f"{url}/measurements/{rows[70]}/delete").status_code == 403  # muniA's value
    assert startup.post(f"{url}/measurements/{rows[90]}/delete").status_code == 302  # its own
    assert load(app, experiment_id)["kpis"][0][3] == [70]
    # a measured KPI cannot be removed, so results are never lost
    body = municipality.post(f"{url}/kpis/{kpi_id}/delete", follow_redirects=True).get_data(as_text=True)
    assert "can no longer be removed" in body and len(load(app, experiment_id)["kpis"]) == 1
    assert "measurement.removed" in load(app, experiment_id)["events"]


def test_list_shows_what_the_user_may_read_and_filters_by_status(app, world):
    running = make_experiment(app, world, ExperimentStatus.RUNNING, kpi=True)
    with app.app_context():
        leuven = db.session.scalar(sa.select(Organisation).where(Organisation.name == "Leuven"))
        challenge = db.session.scalar(sa.select(Challenge).where(Challenge.organisation_id == leuven.id))
        other = Experiment(title="Leuven only pilot", challenge=challenge, hypothesis="h",
                           status=ExperimentStatus.PROPOSED,
                           municipality_participations=[MunicipalityParticipation(organisation=leuven)],
                           startup_participations=[StartupParticipation(organisation_id=world.ids["org_suB"])])
        db.session.add(other)
        db.session.commit()
    staff = signed_in(app, world, "facilitator")
    body = staff.get("/experiments/").get_data(as_text=True)
    assert "Pilot school streets" in body and "Leuven only pilot" in body
    body = staff.get("/experiments/?status=running").get_data(as_text=True)
    assert "Pilot school streets" in body and "Leuven only pilot" not in body
    assert staff.get("/experiments/?status=bogus").status_code == 400
    gent = signed_in(app, world, "muniA").get("/experiments/").get_data(as_text=True)
    assert "Pilot school streets" in gent and "Leuven only pilot" not in gent
    assert f'href="/experiments/{running}"' in gent


# ---- notifications, timeline, KPIs ---------------------------------------------------------

def test_status_changes_and_decisions_notify_the_other_parties(app, world):
    experiment_id = make_experiment(app, world, ExperimentStatus.PLANNED, kpi=True)
    client = signed_in(app, world, "muniA")
    status(client, experiment_id, "running")
    link = f"/experiments/{experiment_id}"
    assert ("experiment.status", link) in notifications_of(app, world.ids["suA"])
    assert ("experiment.status", link) in notifications_of(app, world.ids["facilitator"])  # who opened it
    assert notifications_of(app, world.ids["muniA"]) == []
    assert notifications_of(app, world.ids["muniB"]) == [] and notifications_of(app, world.ids["suB"]) == []
    mails = [m for m in outbox_messages(app) if world.emails["suA"] in m]
    assert mails and "Pilot school streets" in mails[-1]

    client.post(f"{link}/decision", data={"decision": "no_go", "note": "Too few cars changed route."})
    assert ("experiment.decision", link) in notifications_of(app, world.ids["suA"])
    assert load(app, experiment_id)["decision"] == Decision.NO_GO
    # staff acting: every party hears it
    staff = signed_in(app, world, "facilitator")
    status(staff, experiment_id, "stopped", reason="No go.")
    assert notifications_of(app, world.ids["muniA"])[-1] == ("experiment.status", link)


def test_timeline_shows_every_change_with_who_did_it(app, world):
    experiment_id = make_experiment(app, world, ExperimentStatus.RUNNING, kpi=True)
    url = f"/experiments/{experiment_id}"
    with app.app_context():
        kpi_id = db.session.scalar(sa.select(Kpi.id).where(Kpi.experiment_id == experiment_id))
    startup = signed_in(app, world, "suA")
    startup.post(f"{url}/measurements", data={"m-kpi": kpi_id, "m-measured_on": TODAY.isoformat(),
                                              "m-value": "88", "m-note": "Rainy week"})
    startup.post(f"{url}/notes", data={"text": "The second sensor is installed."})
    municipality = signed_in(app, world, "muniA")
    municipality.post(f"{url}/kpis/{kpi_id}/edit", data={"name": "Cars at the gate", "unit": "cars",
                                                         "baseline": "120", "target": "50", "direction": "lower"})
    assert load(app, experiment_id)["events"] == ["measurement", "note", "kpi.changed"]
    with app.app_context():
        audit_actions = set(db.session.scalars(sa.select(AuditEvent.action).where(
            AuditEvent.object_type == "Experiment", AuditEvent.object_id == experiment_id)))
        assert {"experiment.measurement_add", "experiment.note", "experiment.kpi_update"} <= audit_actions
        actors = db.session.scalars(sa.select(ExperimentEvent.actor_id).order_by(ExperimentEvent.id)).all()
        assert actors == [world.ids["suA"], world.ids["suA"], world.ids["muniA"]]
    page = municipality.get(url).get_data(as_text=True)
    timeline = page[page.index('id="timeline-heading"'):]
    assert "The second sensor is installed." in timeline and "Rainy week" in timeline
    assert "target 60 \u2192 50" in timeline  # moving the goalposts shows
    assert "sua (Startup A)" in timeline
    # newest first
    assert timeline.index("KPI changed") < timeline.index("The second sensor") < timeline.index("Rainy week")


def test_kpis_show_baseline_target_latest_and_an_accessible_chart(app, world):
    experiment_id = make_experiment(app, world, ExperimentStatus.RUNNING, kpi=True, measured=True)
    url = f"/experiments/{experiment_id}"
    client = signed_in(app, world, "muniA")
    with app.app_context():
        kpi_id = db.session.scalar(sa.select(Kpi.id).where(Kpi.experiment_id == experiment_id))
    client.post(f"{url}/measurements", data={"m-kpi": kpi_id, "m-measured_on": TODAY.isoformat(), "m-value": "58"})
    page = client.get(url).get_data(as_text=True)
    svg = re.search(r'<svg class="kpi-chart" role="img".*?</svg>', page, re.S).group(0)
    assert f'aria-labelledby="chart-{kpi_id}-title chart-{kpi_id}-desc"' in svg
    assert "<title" in svg and "Cars at the gate over time" in svg
    desc = re.search(r"<desc[^>]*>(.*?)</desc>", svg, re.S).group(1)
    assert "Baseline 120 cars" in desc and "Target 60 cars" in desc and "lower is better" in desc
    assert "90 cars" in desc and "58 cars" in desc
    assert 'class="chart-baseline"' in svg and 'class="chart-target"' in svg
    points = re.search(r'<polyline class="chart-actual" points="([^"]+)"', svg).group(1).split()
    assert len(points) == 2
    (x1, y1), (x2, y2) = (tuple(map(float, p.split(","))) for p in points)
    assert x2 > x1 and y2 > y1  # later and lower (lower is better, the line goes down in value)
    assert "<script" not in page[page.index('id="kpis-heading"'):]
    # the numbers are in tables as well, and the target is met (58 <= 60)
    summary = re.search(r'<table class="kpi-summary">.*?</table>', page, re.S).group(0)
    assert "120" in summary and "60" in summary and "58" in summary and "status-met" in summary
    assert "target met" in page
    assert "From baseline to target</dt><dd>103 %" in page


def test_kpi_input_errors_are_shown_and_kept(app, world):
    experiment_id = make_experiment(app, world, ExperimentStatus.PLANNED)
    url = f"/experiments/{experiment_id}"
    client = signed_in(app, world, "muniA")
    page = client.post(f"{url}/kpis", data={"name": "Waiting time", "unit": "minutes", "baseline": "30",
                                            "target": "45", "direction": "lower"})
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "the target cannot be above the baseline" in body
    assert 'value="Waiting time"' in body and 'value="45"' in body
    bad_number = client.post(f"{url}/kpis", data={"name": "Waiting time", "unit": "minutes", "target": "soon",
                                                  "direction": "lower"}).get_data(as_text=True)
    assert "Not a valid number." in bad_number and 'value="soon"' in bad_number
    assert load(app, experiment_id)["kpis"] == []
    # a decimal comma is a number too (Dutch readers type 12,5)
    client.post("/language", data={"locale": "nl"})
    assert client.post(f"{url}/kpis", data={"name": "Waiting time", "unit": "minutes", "baseline": "30",
                                            "target": "12,5", "direction": "lower"}).status_code == 302
    assert load(app, experiment_id)["kpis"] == [("Waiting time", 30.0, 12.5, [])]


def test_measurements_cannot_be_in_the_future_and_keep_the_input(app, world):
    experiment_id = make_experiment(app, world, ExperimentStatus.RUNNING, kpi=True)
    url = f"/experiments/{experiment_id}"
    with app.app_context():
        kpi_id = db.session.scalar(sa.select(Kpi.id).where(Kpi.experiment_id == experiment_id))
    client = signed_in(app, world, "suA")
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    page = client.post(f"{url}/measurements", data={"m-kpi": kpi_id, "m-measured_on": tomorrow, "m-value": "77",
                                                    "m-note": "Typed ahead"})
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "cannot be in the future" in body
    assert 'value="77"' in body and 'value="Typed ahead"' in body and f'value="{tomorrow}"' in body
    assert load(app, experiment_id)["kpis"][0][3] == []


def test_decision_and_procurement_rules(app, world):
    experiment_id = make_experiment(app, world, ExperimentStatus.PLANNED, kpi=True)
    url = f"/experiments/{experiment_id}"
    client = signed_in(app, world, "muniA")
    body = client.post(f"{url}/decision", data={"decision": "go"}).get_data(as_text=True)
    assert "while the experiment runs or is evaluated" in body and load(app, experiment_id)["decision"] is None
    with app.app_context():
        experiment = db.session.get(Experiment, experiment_id)
        experiment.status = ExperimentStatus.EVALUATED
        db.session.commit()
    body = client.post(f"{url}/procurement", data={"route": "design_contest", "awarded": "unknown"}).get_data(
        as_text=True)
    assert "Record a go decision" in body and load(app, experiment_id)["route"] is None
    client.post(f"{url}/decision", data={"decision": "go"})
    awarded_early = client.post(f"{url}/procurement", data={"route": "design_contest", "value": "5000",
                                                            "awarded": "yes"}).get_data(as_text=True)
    assert "once the procurement started" in awarded_early and 'value="5000"' in awarded_early
    assert client.post(f"{url}/procurement", data={"route": "design_contest", "value": "5000",
                                                   "awarded": "unknown"}).status_code == 302
    state = load(app, experiment_id)
    assert state["route"] == ProcurementRoute.DESIGN_CONTEST and state["value"] == 5000 and state["awarded"] is None


def test_chart_and_number_helpers_handle_the_edge_cases(app):
    from proeftuin.blueprints.experiment_forms import parse_number
    from proeftuin.services.experiments import kpi_chart

    with app.test_request_context():
        empty = kpi_chart(Kpi(name="k", unit="u", target=5, baseline=5, higher_is_better=True))
        assert empty.points == [] and empty.y_min < 5 < empty.y_max and empty.x_start is None
        one = Kpi(name="k", unit="u", target=-2, higher_is_better=False,
                  measurements=[KpiMeasurement(measured_on=TODAY, value=-1)])
        chart = kpi_chart(one)
        assert chart.points[0].x == (chart.left + chart.right) / 2  # a single date sits in the middle
        assert chart.top <= chart.points[0].y <= chart.bottom and chart.target_y > chart.points[0].y
        period = kpi_chart(one, TODAY - timedelta(days=10), TODAY + timedelta(days=10))
        assert abs(period.points[0].x - (period.left + period.right) / 2) < 1
    assert parse_number("12,5", "nl") == 12.5 and parse_number("1.250", "nl") == 1250
    assert parse_number("12.5", "nl") == 12.5 and parse_number("1,250.5", "en") == 1250.5
    assert parse_number("1\u202f250,5", "fr") == 1250.5 and parse_number("-3,2", "en") == -3.2
