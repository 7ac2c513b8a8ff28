"""The KPIs of an experiment and their measurements: validating a KPI (finite numbers, a target on
the right side of the baseline), adding, changing and removing one, recording and removing a
measured value, and the names of whoever recorded them; every change shows on the timeline.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import format_date, format_decimal
from flask_babel import lazy_gettext as _l

from proeftuin.extensions import db
from proeftuin.models import Experiment, Kpi, KpiMeasurement, User
from proeftuin.services import Forbidden, InvalidInput, InvalidTransition, NotFound, audit
from proeftuin.services.experiments.access import can_manage, get_kpi, get_manageable, get_readable
from proeftuin.services.experiments.events import _event
from proeftuin.services.experiments.rules import MAX_VALUE, MEASURABLE, _check_not_final, _clean


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


def recorders(experiment: Experiment) -> dict[int, str]:
    """Names of whoever recorded the experiment's measurements, by user id."""
    ids = {m.recorded_by_id for k in experiment.kpis for m in k.measurements if m.recorded_by_id}
    if not ids:
        return {}
    return {u.id: u.name for u in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}
