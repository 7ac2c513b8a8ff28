"""The status machine and what ends an experiment: what blocks a move to the next status, the advice
that does not block, changing the status (which moves the challenge in or out of experiment),
the go / no-go decision and the follow-up procurement (route, value, awarded or not).
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l

from proeftuin.enums import ChallengeStatus, Decision, ExperimentStatus, ProcurementRoute
from proeftuin.extensions import db
from proeftuin.models import Experiment, User
from proeftuin.services import InvalidInput, InvalidTransition, audit, outbox
from proeftuin.services.experiments.access import get_manageable
from proeftuin.services.experiments.events import _event
from proeftuin.services.experiments.notices import (
    AWARD_SUBJECT,
    AWARD_TEXT,
    DECISION_SUBJECT,
    DECISION_TEXT,
    STATUS_SUBJECT,
    STATUS_TEXT,
    _tell_others,
)
from proeftuin.services.experiments.plans import PLAN_FIELD_LABELS
from proeftuin.services.experiments.rules import (
    ACTIVE,
    DECIDABLE,
    FINAL,
    MAX_PROCUREMENT_VALUE,
    NEXT,
    PROCUREMENT_EDITABLE,
    _clean,
)


@dataclass
class Blocker:
    message: str
    field: str | None = None


def blockers(experiment: Experiment, target: ExperimentStatus) -> list[Blocker]:
    """What keeps the experiment from moving to `target` (empty when the move is allowed)."""
    status = experiment.status
    if status in FINAL:
        return [Blocker(str(_l("This experiment is closed; its status can no longer change.")))]
    if target == ExperimentStatus.STOPPED:
        return []
    if NEXT.get(status) != target:
        return [Blocker(str(_l("From %(current)s the experiment can only move to %(next)s or be stopped.",
                               current=status.label, next=NEXT[status].label)))]
    found: list[Blocker] = []
    if target in (ExperimentStatus.PLANNED, ExperimentStatus.RUNNING) and not experiment.startups:
        found.append(Blocker(str(_l("No start-up has accepted its invitation yet.")), "startups"))
    if target == ExperimentStatus.PLANNED:
        if experiment.start_date is None or experiment.end_date is None:
            found.append(Blocker(str(_l("Set the start and end date of the experiment before planning it.")),
                                 "start_date"))
    elif target == ExperimentStatus.RUNNING:
        if not experiment.kpis:
            found.append(Blocker(str(_l("Add at least one KPI before the experiment starts.")), "kpi"))
        if experiment.start_date is None:
            found.append(Blocker(str(_l("Set a start date before the experiment starts.")), "start_date"))
    elif target == ExperimentStatus.EVALUATED:
        if not experiment.kpis:
            found.append(Blocker(str(_l("Add at least one KPI before the evaluation.")), "kpi"))
        missing = [k.name for k in experiment.kpis if not k.measurements]
        if missing:
            found.append(Blocker(str(_l("Record at least one measurement for every KPI before the evaluation; "
                                        "missing for: %(kpis)s.", kpis=", ".join(missing))), "measurement"))
    elif target == ExperimentStatus.PROCUREMENT:
        if experiment.decision != Decision.GO:
            found.append(Blocker(str(_l("Record a go decision before the follow-up procurement.")), "decision"))
        if experiment.procurement_route in (None, ProcurementRoute.UNDECIDED):
            found.append(Blocker(str(_l("Choose the route of the follow-up procurement first.")), "route"))
    return found


def advice(experiment: Experiment) -> list[str]:
    """Things worth settling that do not block a status change (the terms companies ask first)."""
    if experiment.status in FINAL:
        return []
    missing = [str(PLAN_FIELD_LABELS[name]).lower() for name in ("ip_terms", "equipment_terms", "data_terms")
               if not getattr(experiment, name)]
    if not missing:
        return []
    return [str(_l("Terms not written down yet: %(terms)s. Start-ups ask about these first.",
                   terms=", ".join(missing)))]


@dataclass
class StatusChange:
    experiment: Experiment
    challenge_changed: bool


def _active_siblings(experiment: Experiment) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Experiment.id)).where(
            Experiment.challenge_id == experiment.challenge_id, Experiment.id != experiment.id,
            Experiment.status.in_(ACTIVE)))


def change_status(user: User, experiment_id: int, target: str, reason: str | None = None) -> StatusChange:
    """Move the experiment one step along proposed -> planned -> running -> evaluated -> procurement,
    or stop it (with a reason) from any status that is not final.

    Entering running puts the challenge in experiment; procurement or stopped complete it when no
    other experiment of the same challenge is still running or being evaluated; a changed challenge
    is re-indexed by the worker after commit.

    Raises:
        NotFound / Forbidden: see `get_manageable`.
        InvalidInput: unknown status, or stopping without a reason.
        InvalidTransition: a guard is not met (the message lists what is missing).
    """
    experiment = get_manageable(user, experiment_id)
    if target not in ExperimentStatus.values():
        raise InvalidInput("unknown status")
    target_status = ExperimentStatus(target)
    found = blockers(experiment, target_status)
    if found:
        raise InvalidTransition(" ".join(b.message for b in found), found[0].field)
    reason = _clean(reason)
    if target_status == ExperimentStatus.STOPPED and not reason:
        raise InvalidInput(str(_l("Say why the experiment stops.")), "reason")
    before = experiment.status
    experiment.status = target_status
    challenge = experiment.challenge
    challenge_changed = False
    if target_status == ExperimentStatus.RUNNING and challenge.status in (
            ChallengeStatus.PUBLISHED, ChallengeStatus.CLOSED, ChallengeStatus.COMPLETED):
        challenge.status = ChallengeStatus.IN_EXPERIMENT
        challenge_changed = True
    elif (target_status in FINAL and challenge.status == ChallengeStatus.IN_EXPERIMENT
          and before in ACTIVE and not _active_siblings(experiment)):
        challenge.status = ChallengeStatus.COMPLETED
        challenge_changed = True
    if challenge_changed:
        audit.record(user, f"challenge.{challenge.status.value}", challenge, experiment_id=experiment.id)
        outbox.record("challenge.changed", {"id": challenge.id})
    _event(experiment, user, f"status.{target_status.value}", reason or "")
    audit.record(user, "experiment.status", experiment, before=before.value, after=target_status.value)
    _tell_others(user, experiment, "experiment.status", STATUS_TEXT, STATUS_SUBJECT,
                 lambda: {"status": target_status.label})
    db.session.commit()
    return StatusChange(experiment, challenge_changed)


def record_decision(user: User, experiment_id: int, decision: str, note: str | None = None) -> Experiment:
    """Go or no go, while the experiment runs or is evaluated; the other parties are told."""
    experiment = get_manageable(user, experiment_id)
    if decision not in Decision.values():
        raise InvalidInput("unknown decision", "decision")
    if experiment.status not in DECIDABLE:
        raise InvalidTransition(str(_l("The go / no-go decision is taken while the experiment runs or is evaluated.")))
    value = Decision(decision)
    note = _clean(note)
    if value == experiment.decision and note == experiment.decision_note:
        return experiment
    experiment.decision = value
    experiment.decision_note = note
    _event(experiment, user, f"decision.{value.value}", note or "")
    audit.record(user, "experiment.decision", experiment, decision=value.value)
    _tell_others(user, experiment, "experiment.decision", DECISION_TEXT, DECISION_SUBJECT,
                 lambda: {"decision": value.label})
    db.session.commit()
    return experiment


@dataclass
class ProcurementData:
    route: ProcurementRoute | None
    value: int | None
    awarded: bool | None


def awarded_label(awarded: bool | None) -> str:
    if awarded is None:
        return str(_l("not known yet"))
    return str(_l("awarded") if awarded else _l("not awarded"))


def update_procurement(user: User, experiment_id: int, data: ProcurementData) -> Experiment:
    """The follow-up procurement after a go: route, value in euro, awarded or not.

    Raises:
        InvalidTransition: no go decision, or the experiment is not evaluated / in procurement.
        InvalidInput: a negative value, an award before the procurement started, or a cleared route
            while the procurement runs.
    """
    experiment = get_manageable(user, experiment_id)
    if experiment.status not in PROCUREMENT_EDITABLE:
        raise InvalidTransition(str(_l("The follow-up procurement is prepared once the experiment is evaluated.")))
    if experiment.decision != Decision.GO:
        raise InvalidTransition(str(_l("Record a go decision before the follow-up procurement.")))
    if data.value is not None and data.value < 0:
        raise InvalidInput(str(_l("The value cannot be negative.")), "value")
    if data.value is not None and data.value > MAX_PROCUREMENT_VALUE:
        raise InvalidInput(str(_l("This number is too large.")), "value")
    if data.route == ProcurementRoute.UNDECIDED:
        data.route = None
    if experiment.status == ExperimentStatus.PROCUREMENT and data.route is None:
        raise InvalidInput(str(_l("A running procurement keeps its route.")), "route")
    if data.awarded is not None and experiment.status != ExperimentStatus.PROCUREMENT:
        raise InvalidInput(str(_l("Whether it was awarded can be recorded once the procurement started.")),
                           "awarded")
    awarded_before = experiment.procurement_awarded
    changed = (experiment.procurement_route, experiment.procurement_value, awarded_before) != (
        data.route, data.value, data.awarded)
    if not changed:
        return experiment
    experiment.procurement_route = data.route
    experiment.procurement_value = data.value
    experiment.procurement_awarded = data.awarded
    parts = [data.route.label if data.route else str(_l("no route yet"))]
    if data.value is not None:
        parts.append(format_decimal(data.value, format="#,##0") + " \u20ac")
    parts.append(awarded_label(data.awarded))
    _event(experiment, user, "procurement", " \u00b7 ".join(parts))
    audit.record(user, "experiment.procurement", experiment,
                 route=data.route.value if data.route else None, value=data.value, awarded=data.awarded)
    if data.awarded != awarded_before:
        _tell_others(user, experiment, "experiment.awarded", AWARD_TEXT, AWARD_SUBJECT,
                     lambda: {"awarded": awarded_label(data.awarded)})
    db.session.commit()
    return experiment
