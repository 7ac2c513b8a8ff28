"""The timeline: appending an event (which also marks the experiment as changed), the label of each
kind of event, the timeline as the parties read it (newest first, with who did it), the reason
a stopped experiment gave, and the notes any party may add.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from proeftuin.enums import ExperimentStatus
from proeftuin.extensions import db
from proeftuin.models import Experiment, ExperimentEvent, User
from proeftuin.models.types import utcnow
from proeftuin.services import InvalidInput, audit
from proeftuin.services.experiments.access import get_readable
from proeftuin.services.experiments.notices import _organisation_label

EVENT_LABELS: dict[str, object] = {
    "created": _l("Experiment opened"),
    "plan": _l("Plan or terms changed"),
    "kpi.added": _l("KPI added"),
    "kpi.changed": _l("KPI changed"),
    "kpi.removed": _l("KPI removed"),
    "measurement": _l("Measurement"),
    "measurement.removed": _l("Measurement removed"),
    "decision.go": _l("Decision: go"),
    "decision.no_go": _l("Decision: no go"),
    "procurement": _l("Follow-up procurement updated"),
    "note": _l("Note"),
    "invitation": _l("Invitation sent"),
    "invitation.accepted": _l("Invitation accepted"),
    "invitation.declined": _l("Invitation declined"),
}
STATUS_EVENT_LABEL = _l("Status: %(status)s")


def _event(experiment: Experiment, actor: User, kind: str, text: str) -> ExperimentEvent:
    """Append to the timeline; the experiment counts as changed (the list sorts on it)."""
    event = ExperimentEvent(actor_id=actor.id, kind=kind, text=text)
    experiment.events.append(event)
    experiment.updated_at = utcnow()
    return event


def event_label(kind: str) -> str:
    if kind.startswith("status."):
        status = kind.split(".", 1)[1]
        if status in ExperimentStatus.values():
            return str(STATUS_EVENT_LABEL) % {"status": ExperimentStatus(status).label}
    return str(EVENT_LABELS.get(kind, kind))


@dataclass
class TimelineEntry:
    at: datetime
    kind: str
    label: str
    text: str
    actor: str
    organisation: str | None


def timeline(experiment: Experiment) -> list[TimelineEntry]:
    """The experiment's events, newest first, with who did it."""
    events = db.session.scalars(
        sa.select(ExperimentEvent).where(ExperimentEvent.experiment_id == experiment.id)
        .order_by(ExperimentEvent.at.desc(), ExperimentEvent.id.desc())).all()
    actor_ids = {e.actor_id for e in events if e.actor_id is not None}
    actors = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(actor_ids)))} if actor_ids else {}
    entries = []
    for event in events:
        actor = actors.get(event.actor_id)
        entries.append(TimelineEntry(
            at=event.at, kind=event.kind, label=event_label(event.kind), text=event.text,
            actor=actor.name if actor else str(_l("someone")),
            organisation=_organisation_label(actor) if actor else None,
        ))
    return entries


def stop_reason(experiment: Experiment) -> str | None:
    if experiment.status != ExperimentStatus.STOPPED:
        return None
    return db.session.scalar(
        sa.select(ExperimentEvent.text).where(ExperimentEvent.experiment_id == experiment.id,
                                              ExperimentEvent.kind == "status.stopped")
        .order_by(ExperimentEvent.id.desc()).limit(1))


def add_note(user: User, experiment_id: int, text: str) -> ExperimentEvent:
    """A timeline note by any party (also after the experiment closed)."""
    experiment = get_readable(user, experiment_id)
    text = (text or "").strip()
    if not text:
        raise InvalidInput(str(_l("Write the note.")), "text")
    event = _event(experiment, user, "note", text)
    audit.record(user, "experiment.note", experiment)
    db.session.commit()
    return event
