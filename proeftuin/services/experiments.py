"""Experiments (pilots): the plan and its terms, KPIs over time, the status machine, the decision
and the follow-up procurement, with a timeline every party can read.

Who may do what on one experiment:

- staff (facilitators, admins) and members of the participating municipalities *manage* it: plan,
  terms, KPIs, status, decision, follow-up procurement;
- members of the participating start-ups *read* everything and *contribute* KPI measurements and
  timeline notes;
- an organisation that is invited but has not accepted yet sees only the invitation (what it is
  invited to and by whom) and may accept or decline it; it is not a party, so it reads nothing
  else and hears nothing of the experiment's activity;
- everyone else gets NotFound, so the experiment's existence does not leak.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import format_date, format_decimal
from flask_babel import lazy_gettext as _l
from sqlalchemy import orm

from proeftuin.enums import (
    BuyerGroupStatus,
    ChallengeStatus,
    Decision,
    ExperimentStatus,
    InvitationStatus,
    OrgKind,
    ParticipationState,
    ProcurementRoute,
    Role,
    SuggestionStatus,
)
from proeftuin.extensions import db
from proeftuin.models import (
    BuyerGroup,
    Challenge,
    Experiment,
    ExperimentEvent,
    Kpi,
    KpiMeasurement,
    MatchSuggestion,
    MunicipalityParticipation,
    Organisation,
    StartupParticipation,
    User,
)
from proeftuin.models.experiment import Participation
from proeftuin.models.types import utcnow
from proeftuin.policy import is_staff
from proeftuin.services import Conflict, Forbidden, InvalidInput, InvalidTransition, NotFound, audit, notify, outbox
from proeftuin.services.listing import one_of

logger = logging.getLogger(__name__)

FLOW = (
    ExperimentStatus.PROPOSED,
    ExperimentStatus.PLANNED,
    ExperimentStatus.RUNNING,
    ExperimentStatus.EVALUATED,
    ExperimentStatus.PROCUREMENT,
)
NEXT = dict(zip(FLOW, FLOW[1:], strict=False))
FINAL = frozenset({ExperimentStatus.PROCUREMENT, ExperimentStatus.STOPPED})
ACTIVE = frozenset({ExperimentStatus.RUNNING, ExperimentStatus.EVALUATED})
MEASURABLE = ACTIVE
DECIDABLE = ACTIVE
PROCUREMENT_EDITABLE = frozenset({ExperimentStatus.EVALUATED, ExperimentStatus.PROCUREMENT})
# A challenge an experiment can start from: published or closed for applications, or already in
# another experiment. Drafts would become public when the pilot starts; archived ones are done.
CHALLENGE_STATUSES = (ChallengeStatus.PUBLISHED, ChallengeStatus.CLOSED, ChallengeStatus.IN_EXPERIMENT)
LIST_STATUSES = {"open", *ExperimentStatus.values()}
MAX_VALUE = 1e12
MAX_PROCUREMENT_VALUE = 2_000_000_000  # euro; the column is an INTEGER (at most 2**31 - 1 on PostgreSQL)

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

CREATED_TEXT = _l("%(actor)s opened the experiment \u201c%(experiment)s\u201d with your organisation.")
CREATED_SUBJECT = _l("New experiment: %(experiment)s")
STATUS_TEXT = _l("The experiment \u201c%(experiment)s\u201d is now: %(status)s.")
STATUS_SUBJECT = _l("Experiment %(experiment)s: %(status)s")
DECISION_TEXT = _l("Decision on the experiment \u201c%(experiment)s\u201d: %(decision)s.")
DECISION_SUBJECT = _l("Decision on %(experiment)s: %(decision)s")
AWARD_TEXT = _l("Follow-up procurement of \u201c%(experiment)s\u201d: %(awarded)s.")
AWARD_SUBJECT = _l("Follow-up procurement of %(experiment)s")
INVITED_TEXT = _l("%(actor)s invites %(organisation)s to take part in the experiment \u201c%(experiment)s\u201d. "
                  "Open the invitation to accept or decline it.")
INVITED_SUBJECT = _l("Invitation to the experiment %(experiment)s")
ACCEPTED_TEXT = _l("%(organisation)s accepted the invitation to the experiment \u201c%(experiment)s\u201d.")
ACCEPTED_SUBJECT = _l("%(organisation)s takes part in %(experiment)s")
DECLINED_TEXT = _l("%(organisation)s declined the invitation to the experiment \u201c%(experiment)s\u201d.")
DECLINED_SUBJECT = _l("%(organisation)s declined the invitation to %(experiment)s")


# ---- roles ---------------------------------------------------------------------------------

def role_on(user: User | None, experiment: Experiment) -> str | None:
    """"staff", "municipality" or "startup" for a party of the experiment; None for anyone else."""
    if user is None or not user.is_authenticated:
        return None
    if is_staff(user):
        return "staff"
    if user.organisation_id is None:
        return None
    if user.role == Role.MUNICIPALITY and any(m.id == user.organisation_id for m in experiment.municipalities):
        return "municipality"
    if user.role == Role.STARTUP and any(s.id == user.organisation_id for s in experiment.startups):
        return "startup"
    return None


def can_read(user: User | None, experiment: Experiment) -> bool:
    return role_on(user, experiment) is not None


def can_manage(user: User | None, experiment: Experiment) -> bool:
    return role_on(user, experiment) in ("staff", "municipality")


def get_readable(user: User, experiment_id: int) -> Experiment:
    """The experiment if the user is one of its parties; NotFound otherwise (no oracle)."""
    experiment = db.session.get(Experiment, experiment_id)
    if experiment is None or not can_read(user, experiment):
        raise NotFound()
    return experiment


def get_manageable(user: User, experiment_id: int) -> Experiment:
    """The experiment if the user may manage it; Forbidden for a start-up party, NotFound for others."""
    experiment = get_readable(user, experiment_id)
    if not can_manage(user, experiment):
        raise Forbidden(str(_l("Only the municipalities and the support point can change this.")))
    return experiment


def _kpi_of(experiment: Experiment, kpi_id: int) -> Kpi:
    for kpi in experiment.kpis:
        if kpi.id == kpi_id:
            return kpi
    raise NotFound()


def get_kpi(user: User, experiment_id: int, kpi_id: int, manage: bool = False) -> tuple[Experiment, Kpi]:
    experiment = get_manageable(user, experiment_id) if manage else get_readable(user, experiment_id)
    return experiment, _kpi_of(experiment, kpi_id)


# ---- listing -------------------------------------------------------------------------------

@dataclass
class ListFilters:
    status: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> ListFilters:
        """Raises InvalidInput for a status outside the allowlist (the view answers 400)."""
        return cls(status=one_of(args, "status", LIST_STATUSES))


def _visible(stmt: sa.Select, user: User) -> sa.Select:
    if is_staff(user):
        return stmt
    if user.organisation_id is None:
        return stmt.where(sa.false())
    if user.role == Role.MUNICIPALITY:
        return stmt.where(Experiment.municipalities.any(Organisation.id == user.organisation_id))
    if user.role == Role.STARTUP:
        return stmt.where(Experiment.startups.any(Organisation.id == user.organisation_id))
    return stmt.where(sa.false())


def list_query(user: User, filters: ListFilters) -> sa.Select:
    """The experiments the user may read, most recently changed first."""
    stmt = _visible(sa.select(Experiment), user).options(
        orm.joinedload(Experiment.challenge),
        orm.selectinload(Experiment.municipalities),
        orm.selectinload(Experiment.startups),
        orm.selectinload(Experiment.kpis).selectinload(Kpi.measurements),
    )
    if filters.status == "open":
        stmt = stmt.where(Experiment.status.not_in(FINAL))
    elif filters.status:
        stmt = stmt.where(Experiment.status == ExperimentStatus(filters.status))
    return stmt.order_by(Experiment.updated_at.desc(), Experiment.id.desc())


def status_counts(user: User) -> dict[str, int]:
    stmt = _visible(sa.select(Experiment.status, sa.func.count(Experiment.id)), user).group_by(Experiment.status)
    counts = {status.value: 0 for status in ExperimentStatus}
    for status, count in db.session.execute(stmt):
        counts[ExperimentStatus(status).value] = count
    counts["open"] = sum(v for k, v in counts.items() if ExperimentStatus(k) not in FINAL)
    counts["all"] = sum(counts[s.value] for s in ExperimentStatus)
    return counts


# ---- choices for the forms -----------------------------------------------------------------

def startup_choices() -> list[Organisation]:
    return list(db.session.scalars(
        sa.select(Organisation).where(Organisation.kind == OrgKind.STARTUP).order_by(Organisation.name)))


def municipality_choices() -> list[Organisation]:
    return list(db.session.scalars(
        sa.select(Organisation).where(Organisation.kind == OrgKind.MUNICIPALITY).order_by(Organisation.name)))


def _joined_members(group: BuyerGroup) -> list:
    return [m for m in group.members if m.invitation == InvitationStatus.JOINED]


def challenge_choices(user: User, buyer_group: BuyerGroup | None = None) -> list[Challenge]:
    """Challenges the user may open an experiment for (within the buyer group when one is given)."""
    stmt = sa.select(Challenge).where(Challenge.status.in_(CHALLENGE_STATUSES))
    if not is_staff(user):
        if user.role != Role.MUNICIPALITY or user.organisation_id is None:
            return []
        stmt = stmt.where(Challenge.organisation_id == user.organisation_id)
    if buyer_group is not None:
        stmt = stmt.where(Challenge.id.in_([m.challenge_id for m in _joined_members(buyer_group)]))
    return list(db.session.scalars(stmt.order_by(Challenge.title, Challenge.id)))


# ---- creating ------------------------------------------------------------------------------

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


def _clean(text: str | None) -> str | None:
    return (text or "").strip() or None


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


def _check_not_final(experiment: Experiment) -> None:
    if experiment.status in FINAL:
        raise InvalidTransition(str(_l("This experiment is closed; it can no longer be changed.")))


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


# ---- participation and invitations ---------------------------------------------------------

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


def open_invitations(experiment: Experiment) -> list[Participation]:
    """The participations that are not (yet) parties: invited or declined, by organisation name."""
    rows = [p for p in [*experiment.municipality_participations, *experiment.startup_participations]
            if p.state != ParticipationState.ACCEPTED]
    return sorted(rows, key=lambda p: p.organisation.name)


def participation_labels(experiment: Experiment) -> dict[int, str]:
    """The state of each organisation that is not a party yet, by organisation id (form labels)."""
    return {p.organisation_id: p.state.label for p in open_invitations(experiment)}


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


def _tell_inviter(actor: User, experiment: Experiment, row: Participation, kind: str, text, subject) -> int:
    """Notify whoever sent the invitation (or, when they are gone, the facilitator who opened it)."""
    recipient = db.session.get(User, row.invited_by_id) if row.invited_by_id else None
    if recipient is None and experiment.created_by_id:
        recipient = db.session.get(User, experiment.created_by_id)
    if recipient is None or recipient.id == actor.id:
        return 0
    return notify.notify_users([recipient], kind, text, f"/experiments/{experiment.id}",
                               lambda: {"organisation": row.organisation.name, "experiment": experiment.title},
                               subject, text)


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


# ---- KPIs and measurements -----------------------------------------------------------------

@dataclass
class KpiData:
    name: str
    unit: str
    target: float
    baseline: float | None = None
    higher_is_better: bool = True


def _number(value: float | None) -> str:
    return "\u2013" if value is None else format_decimal(value, format="#,##0.###")


def _check_number(value: float, field: str) -> None:
    """A number a KPI can hold: finite (NaN and infinity break comparisons, charts and PostgreSQL's
    ordering) and at most MAX_VALUE.

    Raises:
        InvalidInput: it is not (on `field`).
    """
    if not math.isfinite(value):
        raise InvalidInput(str(_l("Enter an ordinary number, not infinity or NaN.")), field)
    if abs(value) > MAX_VALUE:
        raise InvalidInput(str(_l("This number is too large.")), field)


def _validate_kpi(data: KpiData) -> None:
    if not data.name.strip():
        raise InvalidInput(str(_l("Name the KPI.")), "name")
    if not data.unit.strip():
        raise InvalidInput(str(_l("Give the unit, for example minutes, kWh or %.")), "unit")
    for name in ("target", "baseline"):
        value = getattr(data, name)
        if value is not None:
            _check_number(value, name)
    if data.baseline is not None:
        worse = data.target < data.baseline if data.higher_is_better else data.target > data.baseline
        if worse:
            message = (_l("With higher is better, the target cannot be below the baseline.") if data.higher_is_better
                       else _l("With lower is better, the target cannot be above the baseline."))
            raise InvalidInput(str(message), "target")


def add_kpi(user: User, experiment_id: int, data: KpiData) -> Kpi:
    experiment = get_manageable(user, experiment_id)
    _check_not_final(experiment)
    _validate_kpi(data)
    kpi = Kpi(name=data.name.strip(), unit=data.unit.strip(), baseline=data.baseline, target=data.target,
              higher_is_better=data.higher_is_better)
    experiment.kpis.append(kpi)
    db.session.flush()
    _event(experiment, user, "kpi.added",
           f"{kpi.name} ({kpi.unit}): {_number(kpi.baseline)} \u2192 {_number(kpi.target)}")
    audit.record(user, "experiment.kpi_add", experiment, kpi_id=kpi.id)
    db.session.commit()
    return kpi


def _shown(name: str, value: object) -> str:
    if name in ("baseline", "target"):
        return _number(value)  # type: ignore[arg-type]
    if name == "higher_is_better":
        return str(_l("higher is better") if value else _l("lower is better"))
    return str(value)


def update_kpi(user: User, experiment_id: int, kpi_id: int, data: KpiData) -> Kpi:
    """Change a KPI; moving a target after measurements is allowed but shows on the timeline."""
    experiment, kpi = get_kpi(user, experiment_id, kpi_id, manage=True)
    _check_not_final(experiment)
    _validate_kpi(data)
    labels = {"name": _l("name"), "unit": _l("unit"), "baseline": _l("baseline"), "target": _l("target"),
              "higher_is_better": _l("direction")}
    new = {"name": data.name.strip(), "unit": data.unit.strip(), "baseline": data.baseline, "target": data.target,
           "higher_is_better": data.higher_is_better}
    changes = []
    for name, value in new.items():
        old = getattr(kpi, name)
        if old != value:
            changes.append(f"{labels[name]} {_shown(name, old)} \u2192 {_shown(name, value)}")
            setattr(kpi, name, value)
    if changes:
        _event(experiment, user, "kpi.changed", f"{kpi.name}: " + "; ".join(changes))
        audit.record(user, "experiment.kpi_update", experiment, kpi_id=kpi.id)
    db.session.commit()
    return kpi


def delete_kpi(user: User, experiment_id: int, kpi_id: int) -> None:
    """Remove a KPI that has no measurements yet (measured KPIs stay, so results are never lost)."""
    experiment, kpi = get_kpi(user, experiment_id, kpi_id, manage=True)
    _check_not_final(experiment)
    if kpi.measurements:
        raise InvalidTransition(str(_l("This KPI has measurements; it can no longer be removed.")))
    name = kpi.name
    experiment.kpis.remove(kpi)
    _event(experiment, user, "kpi.removed", name)
    audit.record(user, "experiment.kpi_delete", experiment, kpi_id=kpi_id)
    db.session.commit()


def add_measurement(user: User, experiment_id: int, kpi_id: int, measured_on: date | None, value: float | None,
                    note: str | None = None, today: date | None = None) -> KpiMeasurement:
    """Record an actual value of a KPI (any party, while the experiment runs or is evaluated)."""
    experiment, kpi = get_kpi(user, experiment_id, kpi_id)
    if experiment.status not in MEASURABLE:
        raise InvalidTransition(
            str(_l("Measurements can be added while the experiment is running or being evaluated.")))
    today = today or date.today()
    if measured_on is None:
        raise InvalidInput(str(_l("Give the date of the measurement.")), "measured_on")
    if measured_on > today:
        raise InvalidInput(str(_l("A measurement cannot be in the future.")), "measured_on")
    if experiment.start_date and measured_on < experiment.start_date - timedelta(days=366):
        raise InvalidInput(str(_l("This date is long before the experiment started.")), "measured_on")
    if value is None:
        raise InvalidInput(str(_l("Give the measured value.")), "value")
    _check_number(value, "value")
    measurement = KpiMeasurement(measured_on=measured_on, value=value, note=_clean(note), recorded_by_id=user.id)
    kpi.measurements.append(measurement)
    db.session.flush()
    text = f"{kpi.name}: {_number(value)} {kpi.unit} ({format_date(measured_on)})"
    if measurement.note:
        text += f" \u2013 {measurement.note}"
    _event(experiment, user, "measurement", text)
    audit.record(user, "experiment.measurement_add", experiment, kpi_id=kpi.id, measurement_id=measurement.id)
    db.session.commit()
    return measurement


def delete_measurement(user: User, experiment_id: int, measurement_id: int) -> None:
    """Remove a measurement (a typo): its recorder or a manager, while the experiment is not final."""
    experiment = get_readable(user, experiment_id)
    measurement = db.session.get(KpiMeasurement, measurement_id)
    kpi = next((k for k in experiment.kpis if measurement is not None and k.id == measurement.kpi_id), None)
    if measurement is None or kpi is None:
        raise NotFound()
    if not can_manage(user, experiment) and measurement.recorded_by_id != user.id:
        raise Forbidden(str(_l("Only whoever recorded it, the municipalities or the support point can remove it.")))
    _check_not_final(experiment)
    text = f"{kpi.name}: {_number(measurement.value)} {kpi.unit} ({format_date(measurement.measured_on)})"
    kpi.measurements.remove(measurement)
    _event(experiment, user, "measurement.removed", text)
    audit.record(user, "experiment.measurement_delete", experiment, kpi_id=kpi.id, measurement_id=measurement_id)
    db.session.commit()


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


# ---- the status machine --------------------------------------------------------------------

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


# ---- timeline and notifications ------------------------------------------------------------

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


def recorders(experiment: Experiment) -> dict[int, str]:
    """Names of whoever recorded the experiment's measurements, by user id."""
    ids = {m.recorded_by_id for k in experiment.kpis for m in k.measurements if m.recorded_by_id}
    if not ids:
        return {}
    return {u.id: u.name for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}


def _organisation_label(user: User) -> str | None:
    if is_staff(user):
        return str(_l("Support point"))
    return user.organisation.name if user.organisation else None


def _actor_name(user: User) -> str:
    organisation = _organisation_label(user)
    return f"{user.name} ({organisation})" if organisation else user.name


def _tell_others(actor: User, experiment: Experiment, kind: str, text, subject,
                 values: Callable[[], dict]) -> int:
    """Notify the members of every participating organisation except the actor's own, and the
    facilitator who opened the experiment (unless they are the actor)."""
    recipients: dict[int, User] = {}
    for organisation in [*experiment.municipalities, *experiment.startups]:
        if organisation.id == actor.organisation_id:
            continue
        for member in notify.members(organisation):
            recipients[member.id] = member
    if experiment.created_by_id and experiment.created_by_id != actor.id:
        creator = db.session.get(User, experiment.created_by_id)
        if creator is not None and is_staff(creator) and creator.active:
            recipients[creator.id] = creator
    recipients.pop(actor.id, None)
    link = f"/experiments/{experiment.id}"
    return notify.notify_users(list(recipients.values()), kind, text, link,
                               lambda: {"experiment": experiment.title, **values()}, subject, text)


# ---- KPI views and the chart ---------------------------------------------------------------

@dataclass
class ChartPoint:
    x: float
    y: float
    on: date
    value: float


@dataclass
class Chart:
    """Coordinates of a small line chart in a `width` x `height` viewBox (drawn by a Jinja macro)."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    points: list[ChartPoint]
    baseline_y: float | None
    target_y: float | None
    y_min: float
    y_max: float
    x_start: date | None
    x_end: date | None

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


def kpi_chart(kpi: Kpi, start: date | None = None, end: date | None = None,
              width: int = 480, height: int = 180) -> Chart:
    """Scale a KPI's measurements, baseline and target to chart coordinates.

    Args:
        kpi: the KPI with its measurements (ordered by date).
        start, end: the experiment's period, widened to the measurements' dates.
    """
    left, right, top, bottom = 56, width - 16, 12, height - 28
    measurements = list(kpi.measurements)
    values = [m.value for m in measurements] + [kpi.target] + ([kpi.baseline] if kpi.baseline is not None else [])
    low, high = min(values), max(values)
    span = high - low
    pad = span * 0.1 if span else (abs(high) * 0.1 or 1.0)
    low, high = low - pad, high + pad
    if min(values) >= 0 > low:
        low = 0.0

    def y_of(value: float) -> float:
        return bottom - (value - low) / (high - low) * (bottom - top)

    dates = [m.measured_on for m in measurements] + [d for d in (start, end) if d is not None]
    x_start, x_end = (min(dates), max(dates)) if dates else (None, None)
    days = (x_end - x_start).days if x_start and x_end else 0

    def x_of(on: date) -> float:
        if not days:
            return (left + right) / 2
        return left + (on - x_start).days / days * (right - left)

    points = [ChartPoint(x_of(m.measured_on), y_of(m.value), m.measured_on, m.value) for m in measurements]
    return Chart(width=width, height=height, left=left, right=right, top=top, bottom=bottom, points=points,
                 baseline_y=y_of(kpi.baseline) if kpi.baseline is not None else None, target_y=y_of(kpi.target),
                 y_min=low, y_max=high, x_start=x_start, x_end=x_end)


def progress(kpi: Kpi) -> int | None:
    """How far the latest value went from the baseline to the target, in percent (None without both)."""
    if kpi.baseline is None or kpi.latest is None or kpi.target == kpi.baseline:
        return None
    share = (kpi.latest - kpi.baseline) / (kpi.target - kpi.baseline) * 100
    return round(share) if math.isfinite(share) else None  # a NaN stored before the forms refused it
