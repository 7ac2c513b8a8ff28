"""Inviting an organisation to an experiment and its answer: announcing invitations (timeline,
audit, a notification to the invited organisation's members), the organisations a manager may
invite, the summary an invited organisation sees instead of the experiment, and accepting or
declining (the inviter is told).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from proeftuin.enums import OrgKind, ParticipationState, Role
from proeftuin.extensions import db
from proeftuin.models import Experiment, MunicipalityParticipation, Organisation, StartupParticipation, User
from proeftuin.models.experiment import Participation
from proeftuin.models.types import utcnow
from proeftuin.services import InvalidInput, InvalidTransition, NotFound, audit, notify
from proeftuin.services.experiments.access import get_manageable
from proeftuin.services.experiments.events import _event
from proeftuin.services.experiments.notices import (
    ACCEPTED_SUBJECT,
    ACCEPTED_TEXT,
    DECLINED_SUBJECT,
    DECLINED_TEXT,
    INVITED_SUBJECT,
    INVITED_TEXT,
    _actor_name,
    _tell_inviter,
)
from proeftuin.services.experiments.participants import _invite_row, _participation_of, _refresh_parties
from proeftuin.services.experiments.queries import municipality_choices, startup_choices
from proeftuin.services.experiments.rules import FINAL, _check_not_final

logger = logging.getLogger(__name__)


def _announce_invitations(actor: User, experiment: Experiment, organisations: list[Organisation]) -> None:
    """Timeline, audit and a notification (in-app and mail) to the invited organisations' members.

    The invitation says only what the experiment is called and who invites; the plan stays with
    the parties until the organisation accepts.
    """
    for organisation in organisations:
        _event(experiment, actor, "invitation", organisation.name)
        audit.record(actor, "experiment.invite", experiment, organisation_id=organisation.id,
                     kind=organisation.kind.value)
        notify.notify_users(notify.members(organisation), "experiment.invited", INVITED_TEXT,
                            f"/experiments/{experiment.id}",
                            lambda organisation=organisation: {"actor": _actor_name(actor),
                                                               "organisation": organisation.name,
                                                               "experiment": experiment.title},
                            INVITED_SUBJECT, INVITED_TEXT)


def invite_choices(experiment: Experiment) -> list[Organisation]:
    """Verified municipalities and start-ups that may be invited: not a party, not invited already."""
    taken = {p.organisation_id for p in [*experiment.startup_participations, *experiment.municipality_participations]
             if p.state != ParticipationState.DECLINED}
    return [o for o in [*municipality_choices(), *startup_choices()] if o.id not in taken and o.is_verified]


def invite(user: User, experiment_id: int, organisation_id: int | None) -> Participation:
    """Invite a municipality or a start-up to the experiment (a manager, while it is not closed).

    The organisation becomes a party only when one of its members accepts; a declined one can be
    invited again.

    Raises:
        NotFound / Forbidden: see `get_manageable`.
        InvalidTransition: the experiment is closed.
        InvalidInput: no municipality or start-up was chosen.
        Conflict: the organisation is already invited or already takes part.
    """
    experiment = get_manageable(user, experiment_id)
    _check_not_final(experiment)
    organisation = db.session.get(Organisation, organisation_id) if organisation_id else None
    if organisation is None or organisation.kind not in (OrgKind.MUNICIPALITY, OrgKind.STARTUP):
        raise InvalidInput(str(_l("Choose from the listed organisations.")), "organisation")
    row = _invite_row(user, experiment, organisation)
    db.session.flush()
    _announce_invitations(user, experiment, [organisation])
    db.session.commit()
    logger.info("experiment %s: organisation %s invited", experiment.id, organisation.id)
    return row


@dataclass
class InvitationSummary:
    """What an invited organisation learns before it accepts: never the plan, terms, KPIs or timeline."""

    experiment_id: int
    title: str
    challenge_title: str
    challenge_language: str
    lead: str
    organisation: str
    kind: OrgKind
    inviter: str
    invited_at: datetime | None
    closed: bool


def _summary(experiment: Experiment, row: Participation) -> InvitationSummary:
    inviter = db.session.get(User, row.invited_by_id) if row.invited_by_id else None
    return InvitationSummary(
        experiment_id=experiment.id, title=experiment.title, challenge_title=experiment.challenge.title,
        challenge_language=experiment.challenge.language.value,
        lead=experiment.challenge.organisation.name, organisation=row.organisation.name,
        kind=row.organisation.kind, inviter=_actor_name(inviter) if inviter else str(_l("the support point")),
        invited_at=row.invited_at, closed=experiment.status in FINAL,
    )


def _invitee_kind(user: User | None) -> OrgKind | None:
    """The kind of organisation the user could be invited for (staff never are)."""
    if user is None or not user.is_authenticated or user.organisation_id is None:
        return None
    return {Role.MUNICIPALITY: OrgKind.MUNICIPALITY, Role.STARTUP: OrgKind.STARTUP}.get(user.role)


def _pending(user: User, experiment_id: int) -> tuple[Experiment, Participation]:
    """The experiment and the user's organisation's open invitation; NotFound without one."""
    kind = _invitee_kind(user)
    experiment = db.session.get(Experiment, experiment_id) if kind is not None else None
    row = _participation_of(experiment, kind, user.organisation_id) if experiment is not None else None
    if row is None or row.state != ParticipationState.INVITED:
        raise NotFound()
    return experiment, row


def invitation_for(user: User, experiment_id: int) -> InvitationSummary | None:
    """The summary of the open invitation of the user's organisation to this experiment, if any."""
    try:
        experiment, row = _pending(user, experiment_id)
    except NotFound:
        return None
    return _summary(experiment, row)


def pending_invitations(user: User) -> list[InvitationSummary]:
    """The open invitations of the user's organisation, newest first (its experiments page)."""
    kind = _invitee_kind(user)
    if kind is None:
        return []
    cls = StartupParticipation if kind == OrgKind.STARTUP else MunicipalityParticipation
    rows = db.session.scalars(
        sa.select(cls).where(cls.organisation_id == user.organisation_id, cls.state == ParticipationState.INVITED)
        .order_by(cls.invited_at.desc(), cls.experiment_id.desc())).all()
    return [_summary(db.session.get(Experiment, row.experiment_id), row) for row in rows]


def accept_invitation(user: User, experiment_id: int) -> Experiment:
    """Accept the invitation for the user's organisation: it becomes a party; the inviter is told.

    Raises:
        NotFound: the user's organisation has no open invitation to this experiment.
        InvalidTransition: the experiment is closed meanwhile (it can still be declined).
    """
    experiment, row = _pending(user, experiment_id)
    if experiment.status in FINAL:
        raise InvalidTransition(str(_l("This experiment is closed; the invitation can only be declined.")))
    row.state = ParticipationState.ACCEPTED
    row.decided_at = utcnow()
    _refresh_parties(experiment)
    _event(experiment, user, "invitation.accepted", row.organisation.name)
    audit.record(user, "experiment.invitation_accept", experiment, organisation_id=row.organisation_id)
    _tell_inviter(user, experiment, row, "experiment.invitation_accepted", ACCEPTED_TEXT, ACCEPTED_SUBJECT)
    db.session.commit()
    logger.info("experiment %s: organisation %s accepted", experiment.id, row.organisation_id)
    return experiment


def decline_invitation(user: User, experiment_id: int) -> None:
    """Decline the invitation for the user's organisation; the inviter is told, and may invite again.

    Raises:
        NotFound: the user's organisation has no open invitation to this experiment.
    """
    experiment, row = _pending(user, experiment_id)
    row.state = ParticipationState.DECLINED
    row.decided_at = utcnow()
    _event(experiment, user, "invitation.declined", row.organisation.name)
    audit.record(user, "experiment.invitation_decline", experiment, organisation_id=row.organisation_id)
    _tell_inviter(user, experiment, row, "experiment.invitation_declined", DECLINED_TEXT, DECLINED_SUBJECT)
    db.session.commit()
    logger.info("experiment %s: organisation %s declined", experiment.id, row.organisation_id)
