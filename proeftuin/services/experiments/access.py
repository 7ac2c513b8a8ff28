"""Who may see and who may manage one experiment (see the package docstring for the rules):
`role_on` names the user's role on it, and the `get_*` loaders return the experiment (or one of
its KPIs) only to its parties, raising NotFound for anyone else so its existence does not leak,
and Forbidden when a start-up party tries to manage it.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from proeftuin.enums import Role
from proeftuin.extensions import db
from proeftuin.models import Experiment, Kpi, User
from proeftuin.policy import can_act_for_org, is_staff
from proeftuin.services import Forbidden, NotFound


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
    """Staff, and the admins and members (not the viewers) of a municipality party."""
    role = role_on(user, experiment)
    return role == "staff" or (role == "municipality" and can_act_for_org(user, user.organisation_id))


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
