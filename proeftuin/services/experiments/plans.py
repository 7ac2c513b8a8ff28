"""Opening an experiment and changing its plan: the start values of the "new experiment" form (from
an accepted match, a challenge or a confirmed buyer group), the plan and its terms, their
validation, and writing them (the required municipalities take part at once, every other
organisation ticked is invited).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from proeftuin.enums import BuyerGroupStatus, ExperimentStatus, OrgKind, Role, SuggestionStatus
from proeftuin.extensions import db
from proeftuin.models import BuyerGroup, Challenge, Experiment, MatchSuggestion, Organisation, User
from proeftuin.policy import is_staff
from proeftuin.services import Forbidden, InvalidInput, InvalidTransition, NotFound, audit
from proeftuin.services.experiments.access import get_manageable
from proeftuin.services.experiments.events import _event
from proeftuin.services.experiments.invitations import _announce_invitations
from proeftuin.services.experiments.notices import CREATED_SUBJECT, CREATED_TEXT, _actor_name, _tell_others
from proeftuin.services.experiments.participants import _apply_participants, _refresh_parties
from proeftuin.services.experiments.rules import CHALLENGE_STATUSES, _check_not_final, _clean, _joined_members

logger = logging.getLogger(__name__)

PLAN_FIELD_LABELS = {
    "title": _l("Title"),
    "hypothesis": _l("Hypothesis"),
    "start_date": _l("Start"),
    "end_date": _l("End"),
    "budget": _l("Budget"),
    "ip_terms": _l("Intellectual property"),
    "equipment_terms": _l("Equipment and removal"),
    "data_terms": _l("Data sharing"),
    "startups": _l("Start-ups"),
    "municipalities": _l("Municipalities"),
}


@dataclass
class Prefill:
    """What the "new experiment" form starts from (an accepted match, a challenge, a buyer group)."""

    challenge_id: int | None = None
    title: str = ""
    startup_ids: list[int] = field(default_factory=list)
    municipality_ids: list[int] = field(default_factory=list)
    suggestion: MatchSuggestion | None = None
    buyer_group: BuyerGroup | None = None
    existing: list[Experiment] = field(default_factory=list)


def _may_create_for(user: User, challenge: Challenge) -> bool:
    if is_staff(user):
        return True
    return user.role == Role.MUNICIPALITY and user.organisation_id == challenge.organisation_id


def _check_challenge(user: User, challenge_id: int | None) -> Challenge:
    challenge = db.session.get(Challenge, challenge_id) if challenge_id else None
    if challenge is None or not _may_create_for(user, challenge):
        raise InvalidInput(str(_l("Choose one of the listed challenges.")), "challenge")
    if challenge.status not in CHALLENGE_STATUSES:
        raise InvalidInput(
            str(_l("An experiment needs a published or closed challenge, not a draft or an archived one.")),
            "challenge",
        )
    return challenge


def _accepted_suggestion(user: User, suggestion_id: int) -> MatchSuggestion:
    suggestion = db.session.get(MatchSuggestion, suggestion_id)
    if suggestion is None or not _may_create_for(user, suggestion.challenge):
        raise NotFound()
    if suggestion.status != SuggestionStatus.ACCEPTED:
        if not is_staff(user):
            raise NotFound()
        raise InvalidTransition(str(_l("Only an accepted match can become an experiment.")))
    return suggestion


def _confirmed_group(user: User, group_id: int) -> BuyerGroup:
    group = db.session.get(BuyerGroup, group_id)
    if group is None:
        raise NotFound()
    joined = {m.challenge.organisation_id for m in _joined_members(group)}
    if not is_staff(user) and (user.role != Role.MUNICIPALITY or user.organisation_id not in joined):
        raise NotFound()
    if group.status != BuyerGroupStatus.CONFIRMED:
        raise InvalidTransition(str(_l("Only a confirmed buyer group can share an experiment.")))
    return group


def prefill(user: User, suggestion_id: int | None = None, challenge_id: int | None = None,
            buyer_group_id: int | None = None) -> Prefill:
    """Start values for a new experiment.

    Raises:
        NotFound: the match, challenge or buyer group does not exist or is not the user's to use.
        InvalidTransition: the match is not accepted, or the buyer group not confirmed.
        InvalidInput: the challenge cannot carry an experiment (draft, archived).
    """
    result = Prefill()
    if suggestion_id is not None:
        suggestion = _accepted_suggestion(user, suggestion_id)
        challenge = suggestion.challenge
        startup = suggestion.profile.organisation
        result.suggestion = suggestion
        result.challenge_id = challenge.id
        result.startup_ids = [startup.id]
        result.municipality_ids = [challenge.organisation_id]
        result.title = f"{challenge.title} \u2013 {startup.name}"[:160]
        result.existing = list(db.session.scalars(
            sa.select(Experiment).where(Experiment.suggestion_id == suggestion.id).order_by(Experiment.id)))
    elif buyer_group_id is not None:
        group = _confirmed_group(user, buyer_group_id)
        members = _joined_members(group)
        own = [m for m in members if m.challenge.organisation_id == user.organisation_id]
        lead = (own or members or [None])[0]
        result.buyer_group = group
        result.municipality_ids = sorted({m.challenge.organisation_id for m in members})
        result.challenge_id = lead.challenge_id if lead is not None else None
        result.title = group.name[:160]
        result.existing = list(db.session.scalars(
            sa.select(Experiment).where(Experiment.buyer_group_id == group.id).order_by(Experiment.id)))
    elif challenge_id is not None:
        challenge = db.session.get(Challenge, challenge_id)
        if challenge is None or not _may_create_for(user, challenge):
            raise NotFound()
        _check_challenge(user, challenge_id)
        result.challenge_id = challenge.id
        result.municipality_ids = [challenge.organisation_id]
        result.title = challenge.title[:160]
    if not is_staff(user) and user.organisation_id and user.organisation_id not in result.municipality_ids:
        result.municipality_ids.append(user.organisation_id)
    return result


@dataclass
class PlanData:
    """The editable plan of an experiment: what is tried, when, with which money, on which terms."""

    title: str
    hypothesis: str
    startup_ids: list[int]
    municipality_ids: list[int]
    start_date: date | None = None
    end_date: date | None = None
    budget: int | None = None
    ip_terms: str | None = None
    equipment_terms: str | None = None
    data_terms: str | None = None


@dataclass
class ExperimentData(PlanData):
    challenge_id: int | None = None
    suggestion_id: int | None = None
    buyer_group_id: int | None = None


def _organisations(ids: list[int], kind: OrgKind, field_name: str) -> list[Organisation]:
    wanted = set(ids)
    if not wanted:
        return []
    rows = list(db.session.scalars(
        sa.select(Organisation).where(Organisation.id.in_(wanted), Organisation.kind == kind)
        .order_by(Organisation.name)))
    if len(rows) != len(wanted):
        raise InvalidInput(str(_l("Choose from the listed organisations.")), field_name)
    return rows


def _validate_plan(data: PlanData, status: ExperimentStatus) -> None:
    if not data.title.strip():
        raise InvalidInput(str(_l("Give the experiment a title.")), "title")
    if not data.hypothesis.strip():
        raise InvalidInput(str(_l("Write down what the experiment should show.")), "hypothesis")
    if not data.startup_ids:
        raise InvalidInput(str(_l("Choose at least one start-up.")), "startups")
    if data.start_date and data.end_date and data.start_date > data.end_date:
        raise InvalidInput(str(_l("The end cannot be before the start.")), "end_date")
    if data.budget is not None and data.budget < 0:
        raise InvalidInput(str(_l("The budget cannot be negative.")), "budget")
    if status != ExperimentStatus.PROPOSED:
        if data.start_date is None:
            raise InvalidInput(str(_l("A planned experiment keeps its start date.")), "start_date")
        if data.end_date is None:
            raise InvalidInput(str(_l("A planned experiment keeps its end date.")), "end_date")


def _apply_plan(user: User, experiment: Experiment, data: PlanData,
                required_municipalities: set[int]) -> tuple[list[str], list[Organisation]]:
    """Write the plan; returns the names of the fields that changed and the organisations invited.

    The required municipalities take part at once; every other organisation ticked is invited.
    The caller records the invitations (`_announce_invitations`) once the experiment has an id.
    """
    changed = []
    values = {
        "title": data.title.strip(), "hypothesis": data.hypothesis.strip(), "start_date": data.start_date,
        "end_date": data.end_date, "budget": data.budget, "ip_terms": _clean(data.ip_terms),
        "equipment_terms": _clean(data.equipment_terms), "data_terms": _clean(data.data_terms),
    }
    for name, value in values.items():
        if getattr(experiment, name) != value:
            setattr(experiment, name, value)
            changed.append(name)
    startups = _organisations(data.startup_ids, OrgKind.STARTUP, "startups")
    municipalities = _organisations(sorted(set(data.municipality_ids) | required_municipalities),
                                    OrgKind.MUNICIPALITY, "municipalities")
    invited: list[Organisation] = []
    for name, kind, organisations, accepted in (("startups", OrgKind.STARTUP, startups, set()),
                                                ("municipalities", OrgKind.MUNICIPALITY, municipalities,
                                                 required_municipalities)):
        kind_changed, kind_invited = _apply_participants(user, experiment, kind, organisations, accepted)
        if kind_changed:
            changed.append(name)
        invited += kind_invited
    return changed, invited


def _required_municipalities(user: User, experiment: Experiment) -> set[int]:
    """The challenge's municipality, the buyer group's joined ones, and the acting municipality."""
    required = {experiment.challenge.organisation_id}
    if experiment.buyer_group_id is not None:
        group = db.session.get(BuyerGroup, experiment.buyer_group_id)
        required |= {m.challenge.organisation_id for m in _joined_members(group)} if group else set()
    if user.role == Role.MUNICIPALITY and user.organisation_id is not None:
        required.add(user.organisation_id)
    return required


def create(user: User, data: ExperimentData) -> Experiment:
    """Open an experiment (status proposed), tell the other parties and invite the organisations added.

    The challenge's municipality, a buyer group's municipalities and the acting municipality take
    part at once; the start-ups and any other municipality are invited (see `accept_invitation`).

    Raises:
        Forbidden: the user is neither staff nor a municipality member.
        NotFound: the match or buyer group is not the user's to use.
        InvalidInput: a field is wrong (its name is in `field`); nothing is saved.
        InvalidTransition: the match is not accepted or the buyer group not confirmed.
    """
    if not is_staff(user) and (user.role != Role.MUNICIPALITY or user.organisation_id is None):
        raise Forbidden()
    challenge = _check_challenge(user, data.challenge_id)
    _validate_plan(data, ExperimentStatus.PROPOSED)
    suggestion_id = None
    if data.suggestion_id is not None:
        suggestion = _accepted_suggestion(user, data.suggestion_id)
        if suggestion.challenge_id != challenge.id:
            raise InvalidInput(str(_l("The match belongs to another challenge.")), "challenge")
        suggestion_id = suggestion.id
    group = None
    if data.buyer_group_id is not None:
        group = _confirmed_group(user, data.buyer_group_id)
        if challenge.id not in {m.challenge_id for m in _joined_members(group)}:
            raise InvalidInput(str(_l("Choose the challenge of one of the buyer group's municipalities.")),
                               "challenge")
    experiment = Experiment(challenge=challenge, suggestion_id=suggestion_id,
                            buyer_group_id=group.id if group else None, created_by_id=user.id,
                            status=ExperimentStatus.PROPOSED, title="", hypothesis="")
    _, invited = _apply_plan(user, experiment, data, _required_municipalities(user, experiment))
    db.session.add(experiment)
    _refresh_parties(experiment)
    _event(experiment, user, "created", experiment.title)
    audit.record(user, "experiment.create", experiment, challenge_id=challenge.id,
                 suggestion_id=suggestion_id, buyer_group_id=experiment.buyer_group_id)
    _tell_others(user, experiment, "experiment.created", CREATED_TEXT, CREATED_SUBJECT,
                 lambda: {"actor": _actor_name(user)})
    _announce_invitations(user, experiment, invited)
    db.session.commit()
    logger.info("experiment %s opened for challenge %s", experiment.id, challenge.id)
    return experiment


def update_plan(user: User, experiment_id: int, data: PlanData) -> Experiment:
    """Change the plan and terms (not once the experiment reached a final status).

    An organisation newly ticked is invited (again, after a decline); one unticked leaves the
    experiment, or its invitation is withdrawn.
    """
    experiment = get_manageable(user, experiment_id)
    _check_not_final(experiment)
    _validate_plan(data, experiment.status)
    changed, invited = _apply_plan(user, experiment, data, _required_municipalities(user, experiment))
    _refresh_parties(experiment)
    if changed:
        _event(experiment, user, "plan", ", ".join(str(PLAN_FIELD_LABELS[name]) for name in changed))
        audit.record(user, "experiment.update", experiment, fields=changed)
    _announce_invitations(user, experiment, invited)
    db.session.commit()
    return experiment
