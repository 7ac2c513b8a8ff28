"""The participation rows of an experiment's start-ups and municipalities: finding them, adding one,
marking an organisation invited (the checks an invitation must pass), making the rows match the
organisations ticked in the plan form, and listing the organisations that are invited or
declined but not (yet) parties.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from proeftuin.enums import OrgKind, ParticipationState, Role
from proeftuin.extensions import db
from proeftuin.models import Experiment, MunicipalityParticipation, Organisation, StartupParticipation, User
from proeftuin.models.experiment import Participation
from proeftuin.models.types import utcnow
from proeftuin.services import Conflict, Forbidden, InvalidInput


def _participations(experiment: Experiment, kind: OrgKind) -> list[Participation]:
    """The experiment's participation rows of one kind (parties, invitations and declines)."""
    if kind == OrgKind.STARTUP:
        return experiment.startup_participations
    return experiment.municipality_participations


def _participation_of(experiment: Experiment, kind: OrgKind, organisation_id: int) -> Participation | None:
    return next((p for p in _participations(experiment, kind) if p.organisation_id == organisation_id), None)


def _new_participation(experiment: Experiment, organisation: Organisation,
                       state: ParticipationState) -> Participation:
    cls = StartupParticipation if organisation.kind == OrgKind.STARTUP else MunicipalityParticipation
    row = cls(organisation=organisation, organisation_id=organisation.id, state=state)
    _participations(experiment, organisation.kind).append(row)
    return row


def _invite_row(actor: User, experiment: Experiment, organisation: Organisation) -> Participation:
    """Mark `organisation` invited by `actor` (a new row, or again after a decline).

    Raises:
        Forbidden: the actor's own municipality is not verified yet (nothing it starts reaches others).
        Conflict: the organisation is already invited or already takes part.
    """
    own = actor.organisation
    if actor.role == Role.MUNICIPALITY and (own is None or not own.is_verified):
        raise Forbidden(str(_l("Your municipality is not verified yet: invitations can leave once the "
                               "support point has verified it.")), "organisation")
    if not organisation.is_verified:
        # Like an introduction: the support point only brings verified organisations together.
        raise InvalidInput(str(_l("%(organisation)s is not verified yet; verify it before inviting it.",
                                  organisation=organisation.name)), "organisation")
    row = _participation_of(experiment, organisation.kind, organisation.id)
    if row is not None and row.state == ParticipationState.ACCEPTED:
        raise Conflict(str(_l("%(organisation)s already takes part in this experiment.",
                              organisation=organisation.name)), "organisation")
    if row is not None and row.state == ParticipationState.INVITED:
        raise Conflict(str(_l("%(organisation)s is already invited to this experiment.",
                              organisation=organisation.name)), "organisation")
    if row is None:
        row = _new_participation(experiment, organisation, ParticipationState.INVITED)
    row.state = ParticipationState.INVITED
    row.invited_by_id = actor.id
    row.invited_at = utcnow()
    row.decided_at = None
    return row


def _apply_participants(actor: User, experiment: Experiment, kind: OrgKind, organisations: list[Organisation],
                        accepted_ids: set[int]) -> tuple[bool, list[Organisation]]:
    """Make the participations of one kind match the ticked organisations.

    Organisations in `accepted_ids` take part at once; the others ticked stay as they are, or are
    invited when they are new or declined before. An invited or accepted organisation no longer
    ticked is removed; a decline stays on record.

    Returns:
        Whether anything changed, and the organisations invited now.
    """
    rows = {p.organisation_id: p for p in _participations(experiment, kind)}
    wanted = {o.id for o in organisations}
    changed = False
    invited: list[Organisation] = []
    for organisation in organisations:
        row = rows.get(organisation.id)
        if organisation.id in accepted_ids:
            if row is None:
                _new_participation(experiment, organisation, ParticipationState.ACCEPTED)
                changed = True
            elif row.state != ParticipationState.ACCEPTED:
                row.state = ParticipationState.ACCEPTED
                row.decided_at = utcnow()
                changed = True
        elif row is None or row.state == ParticipationState.DECLINED:
            _invite_row(actor, experiment, organisation)
            invited.append(organisation)
            changed = True
    for organisation_id, row in rows.items():
        if organisation_id not in wanted and row.state != ParticipationState.DECLINED:
            _participations(experiment, kind).remove(row)
            changed = True
    return changed, invited


def _refresh_parties(experiment: Experiment) -> None:
    """Write the participations and reload the read-only party lists built on them."""
    db.session.flush()
    db.session.expire(experiment, ["startups", "municipalities"])


def open_invitations(experiment: Experiment) -> list[Participation]:
    """The participations that are not (yet) parties: invited or declined, by organisation name."""
    rows = [p for p in [*experiment.municipality_participations, *experiment.startup_participations]
            if p.state != ParticipationState.ACCEPTED]
    return sorted(rows, key=lambda p: p.organisation.name)


def participation_labels(experiment: Experiment) -> dict[int, str]:
    """The state of each organisation that is not a party yet, by organisation id (form labels)."""
    return {p.organisation_id: p.state.label for p in open_invitations(experiment)}
