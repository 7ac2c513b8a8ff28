"""Route x role rows of the experiments (pilots); see test_access_matrix.

A's experiment runs with muniA (Gent) and suA, with one KPI measured once by suA. Non-parties get
404 on everything about it; the start-up party reads and contributes (measurements, notes) but gets
403 where only managers (the municipalities and staff) may act. POSTs run in the order below.

Two more experiments of Gent invite muniB and suB: only an invited organisation may accept or
decline (404 for the parties and everyone else, 403 for staff, who are never invited).
"""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from tests.test_access_matrix import PRINCIPALS, only

STAFF = {"facilitator": 302, "admin": 302}
PARTIES_READ = only({"muniA": 200, "muniB": 404, "suA": 200, "suB": 404, "facilitator": 200, "admin": 200})
MANAGERS_GET = only({"muniA": 200, "muniB": 404, "suA": 403, "suB": 404, "facilitator": 200, "admin": 200})
MANAGERS_POST = only({"muniA": 302, "muniB": 404, "suA": 403, "suB": 404, **STAFF})
PARTIES_POST = only({"muniA": 302, "muniB": 404, "suA": 302, "suB": 404, **STAFF})
INVITED_POST = only({"muniA": 404, "muniB": 302, "suA": 404, "suB": 302})

POLICY = {
    "experiments.index": ("GET", "/experiments/", None, only({p: 200 for p in PRINCIPALS if p != "anon"})),
    "experiments.create": ("GET", "/experiments/new", None,
                           only({"muniA": 200, "muniB": 200, "facilitator": 200, "admin": 200})),
    "experiments.detail": ("GET", "/experiments/{experiment}", None, PARTIES_READ),
    "experiments.edit": ("GET", "/experiments/{experiment}/edit", None, MANAGERS_GET),
    "experiments.edit_kpi": ("GET", "/experiments/{experiment}/kpis/{kpi}/edit", None, MANAGERS_GET),
    # running -> evaluated (every KPI has a measurement), then go, then the follow-up procurement
    "experiments.change_status": ("POST", "/experiments/{experiment}/status", {"target": "evaluated"},
                                  MANAGERS_POST),
    "experiments.decide": ("POST", "/experiments/{experiment}/decision", {"decision": "go"}, MANAGERS_POST),
    "experiments.procurement": ("POST", "/experiments/{experiment}/procurement",
                                {"route": "innovation_partnership", "value": "120000", "awarded": "unknown"},
                                MANAGERS_POST),
    "experiments.add_kpi": ("POST", "/experiments/{experiment}/kpis",
                            {"name": "Satisfaction", "unit": "%", "target": "80", "direction": "higher"},
                            MANAGERS_POST),
    "experiments.add_measurement": ("POST", "/experiments/{experiment}/measurements",
                                    {"m-kpi": "{kpi}", "m-measured_on": "{today}", "m-value": "7"}, PARTIES_POST),
    "experiments.add_note": ("POST", "/experiments/{experiment}/notes", {"text": "A note for the timeline."},
                             PARTIES_POST),
    # suA recorded the measurement, so it may remove it; managers may remove any
    "experiments.delete_measurement": ("POST", "/experiments/{experiment}/measurements/{measurement}/delete", {},
                                       PARTIES_POST),
    "experiments.delete_kpi": ("POST", "/experiments/{experiment}/kpis/{kpi}/delete", {}, MANAGERS_POST),
    "experiments.invite": ("POST", "/experiments/{experiment}/invitations", {"organisation": "{org_suB}"},
                           MANAGERS_POST),
    "experiments.accept": ("POST", "/experiments/{invited_experiment}/accept", {}, INVITED_POST),
    "experiments.decline": ("POST", "/experiments/{declinable_experiment}/decline", {}, INVITED_POST),
}
assert all(set(row[3]) == set(PRINCIPALS) for row in POLICY.values())


def prepare(world) -> dict:
    """A running experiment of Gent's open challenge with Startup A: one KPI, measured once by suA."""
    from proeftuin.enums import ExperimentStatus, ParticipationState
    from proeftuin.extensions import db
    from proeftuin.models import (
        Challenge,
        Experiment,
        Kpi,
        KpiMeasurement,
        MunicipalityParticipation,
        Organisation,
        StartupParticipation,
    )

    def org(key: str) -> Organisation:
        return db.session.get(Organisation, world.ids[key])

    world.markers["experiment"] = "SECRET-experiment-MARKER"
    today = date.today()
    challenge = db.session.get(Challenge, world.ids["published"])
    experiment = Experiment(
        title="Pilot in Gent", challenge=challenge, hypothesis="We expect " + world.markers["experiment"],
        start_date=today - timedelta(days=30), end_date=today + timedelta(days=60),
        status=ExperimentStatus.RUNNING, created_by_id=world.ids["facilitator"],
        startup_participations=[StartupParticipation(organisation=org("org_suA"))],
        municipality_participations=[MunicipalityParticipation(organisation=org("org_muniA"))],
    )
    kpi = Kpi(name="Cars at the gate", unit="cars", baseline=120, target=60, higher_is_better=False)
    measurement = KpiMeasurement(measured_on=today - timedelta(days=3), value=95, recorded_by_id=world.ids["suA"])
    kpi.measurements.append(measurement)
    experiment.kpis.append(kpi)
    invited = dict(state=ParticipationState.INVITED, invited_by_id=world.ids["facilitator"])
    leuven = db.session.scalar(sa.select(Organisation).where(Organisation.name == "Leuven"))  # muniB's
    others = [
        Experiment(
            title=f"Pilot in Gent {n}", challenge=challenge, hypothesis="We expect " + world.markers["experiment"],
            status=ExperimentStatus.PROPOSED, created_by_id=world.ids["facilitator"],
            startup_participations=[StartupParticipation(organisation=org("org_suA")),
                                    StartupParticipation(organisation=org("org_suB"), **invited)],
            municipality_participations=[MunicipalityParticipation(organisation=org("org_muniA")),
                                         MunicipalityParticipation(organisation=leuven, **invited)],
        )
        for n in (2, 3)
    ]
    db.session.add_all([experiment, *others])
    db.session.commit()
    return {"experiment": experiment.id, "kpi": kpi.id, "measurement": measurement.id, "today": today.isoformat(),
            "invited_experiment": others[0].id, "declinable_experiment": others[1].id}
