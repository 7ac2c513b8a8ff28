"""Forms of the experiment pages."""
from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from proeftuin.blueprints.fields import (  # noqa: F401 (parse_number: re-exported for the tests)
    LocalFloatField,
    MultiCheckboxField,
    SingleLineField,
    id_value,
    parse_number,
)
from proeftuin.enums import Decision, ExperimentStatus, ParticipationState, ProcurementRoute
from proeftuin.services import InvalidInput
from proeftuin.services.experiments import (
    MAX_PROCUREMENT_VALUE,
    ExperimentData,
    KpiData,
    PlanData,
    ProcurementData,
)
from proeftuin.services.listing import parse_id


def optional_int(value) -> int | None:
    """Coerce a select's value; the empty placeholder gives None (and DataRequired then complains).

    Anything but an id the database can hold is a ValueError (the field's error), never a query.
    """
    if value in (None, ""):
        return None
    return id_value(value)


TERMS_HINTS = {
    "ip_terms": _l("Who owns the results and the intellectual property? May the start-up reuse them elsewhere?"),
    "equipment_terms": _l("Who pays for the equipment, its installation and its removal after the pilot?"),
    "data_terms": _l("Which data is shared, with whom, for how long, and under which privacy terms?"),
}


class PlanForm(FlaskForm):
    title = SingleLineField(_l("Title"), validators=[DataRequired(), Length(max=160)])
    hypothesis = TextAreaField(
        _l("Hypothesis"), validators=[DataRequired(), Length(max=5000)],
        description=_l("What should the experiment show? For example: with sensors at the school gate, "
                       "fewer cars stop there within three months."))
    startups = MultiCheckboxField(_l("Start-ups"), coerce=id_value, choices=[],
                                  validators=[DataRequired(message=_l("Choose at least one start-up."))])
    municipalities = MultiCheckboxField(
        _l("Municipalities"), coerce=id_value, choices=[],
        description=_l("Several municipalities can share one pilot. The challenge's municipality always takes part."))
    start_date = DateField(_l("Start"), validators=[Optional()])
    end_date = DateField(_l("End"), validators=[Optional()])
    budget = IntegerField(_l("Budget (euro)"), validators=[Optional(), NumberRange(min=0, max=100_000_000)])
    ip_terms = TextAreaField(_l("Intellectual property"), validators=[Optional(), Length(max=5000)],
                             description=TERMS_HINTS["ip_terms"])
    equipment_terms = TextAreaField(_l("Equipment and removal"), validators=[Optional(), Length(max=5000)],
                                    description=TERMS_HINTS["equipment_terms"])
    data_terms = TextAreaField(_l("Data sharing"), validators=[Optional(), Length(max=5000)],
                               description=TERMS_HINTS["data_terms"])

    def set_choices(self, startups, municipalities, states: dict[int, str] | None = None) -> None:
        """The organisations to tick; `states` marks those invited or declined (by organisation id)."""
        states = states or {}

        def label(o) -> str:
            return f"{o.name} ({states[o.id].lower()})" if o.id in states else o.name

        self.startups.choices = [(o.id, label(o)) for o in startups]
        self.municipalities.choices = [(o.id, label(o)) for o in municipalities]

    def plan_values(self) -> dict:
        return {
            "title": (self.title.data or "").strip(),
            "hypothesis": (self.hypothesis.data or "").strip(),
            "startup_ids": list(self.startups.data or []),
            "municipality_ids": list(self.municipalities.data or []),
            "start_date": self.start_date.data,
            "end_date": self.end_date.data,
            "budget": self.budget.data,
            "ip_terms": self.ip_terms.data,
            "equipment_terms": self.equipment_terms.data,
            "data_terms": self.data_terms.data,
        }

    def to_data(self) -> PlanData:
        return PlanData(**self.plan_values())

    @classmethod
    def for_experiment(cls, experiment) -> PlanForm:
        # parties and open invitations are ticked; a declined organisation can be ticked again
        def ticked(rows) -> list[int]:
            return [p.organisation_id for p in rows if p.state != ParticipationState.DECLINED]

        plan = ("title", "hypothesis", "start_date", "end_date", "budget", "ip_terms", "equipment_terms",
                "data_terms")
        return cls(data={**{name: getattr(experiment, name) for name in plan},
                         "startups": ticked(experiment.startup_participations),
                         "municipalities": ticked(experiment.municipality_participations)})


class ExperimentForm(PlanForm):
    challenge = SelectField(_l("Challenge"), coerce=optional_int, choices=[],
                            validators=[DataRequired(message=_l("Choose the challenge."))])
    suggestion_id = HiddenField()
    buyer_group_id = HiddenField()

    @staticmethod
    def _int_or_none(value) -> int | None:
        try:
            return parse_id(value) if value not in (None, "") else None
        except (TypeError, InvalidInput):
            return None

    def to_data(self) -> ExperimentData:
        return ExperimentData(
            **self.plan_values(),
            challenge_id=self.challenge.data,
            suggestion_id=self._int_or_none(self.suggestion_id.data),
            buyer_group_id=self._int_or_none(self.buyer_group_id.data),
        )


class KpiForm(FlaskForm):
    name = SingleLineField(_l("KPI"), validators=[DataRequired(), Length(max=160)],
                       description=_l("What you measure, for example: cars stopping at the school gate per morning."))
    unit = SingleLineField(_l("Unit"), validators=[DataRequired(), Length(max=40)],
                       description=_l("For example: cars, minutes, kWh, %."))
    baseline = LocalFloatField(_l("Baseline"), validators=[Optional()],
                               description=_l("The value before the experiment, if known."))
    target = LocalFloatField(_l("Target"), validators=[InputRequired()])
    direction = RadioField(_l("Better is"), choices=[("higher", _l("higher")), ("lower", _l("lower"))],
                           default="higher", validators=[InputRequired(), AnyOf(["higher", "lower"])])

    def to_data(self) -> KpiData:
        return KpiData(name=self.name.data.strip(), unit=self.unit.data.strip(), target=self.target.data,
                       baseline=self.baseline.data, higher_is_better=self.direction.data == "higher")

    @classmethod
    def for_kpi(cls, kpi) -> KpiForm:
        form = cls(obj=kpi)
        if not form.is_submitted():
            form.direction.data = "higher" if kpi.higher_is_better else "lower"
        return form


class MeasurementForm(FlaskForm):
    """One actual value of a KPI; prefixed "m" on the page, next to the decision's and procurement's fields."""

    kpi = SelectField(_l("KPI"), coerce=id_value, choices=[], validators=[InputRequired()])
    measured_on = DateField(_l("Date"), validators=[InputRequired()], default=date.today)
    value = LocalFloatField(_l("Value"), validators=[InputRequired()])
    note = SingleLineField(_l("Note"), validators=[Optional(), Length(max=500)],
                       description=_l("How it was measured, or anything unusual."))

    def __init__(self, *args, kpis=(), **kwargs):
        kwargs.setdefault("prefix", "m")
        super().__init__(*args, **kwargs)
        self.kpi.choices = [(k.id, f"{k.name} ({k.unit})") for k in kpis]


class NoteForm(FlaskForm):
    text = TextAreaField(_l("Note for the timeline"), validators=[DataRequired(), Length(max=5000)])


class StatusForm(FlaskForm):
    target = HiddenField(validators=[DataRequired(), AnyOf(sorted(ExperimentStatus.values()))])
    reason = TextAreaField(_l("Why does the experiment stop?"), validators=[Optional(), Length(max=2000)])


class DecisionForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=[], validators=[InputRequired(), AnyOf(sorted(Decision.values()))])
    note = TextAreaField(_l("Motivation"), validators=[Optional(), Length(max=5000)],
                         description=_l("What did the KPIs show, and what do you conclude?"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.decision.choices = Decision.choices()


AWARDED = {"unknown": None, "yes": True, "no": False}


class ProcurementForm(FlaskForm):
    route = SelectField(_l("Procurement route"), choices=[], validators=[Optional()])
    value = IntegerField(_l("Estimated or awarded value (euro)"),
                         validators=[Optional(), NumberRange(min=0, max=MAX_PROCUREMENT_VALUE)])
    awarded = RadioField(_l("Awarded"), choices=[("unknown", _l("Not known yet")), ("yes", _l("Yes")),
                                                  ("no", _l("No"))],
                         default="unknown", validators=[InputRequired(), AnyOf(list(AWARDED))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.route.choices = [("", _l("Not chosen yet"))] + [
            (value, label) for value, label in ProcurementRoute.choices() if value != ProcurementRoute.UNDECIDED]

    def validate_route(self, field) -> None:
        if field.data and field.data not in ProcurementRoute.values():
            # ValidationError, not ValueError: WTForms lets any other exception of a validator escape (500)
            raise ValidationError(_l("Choose one of the listed routes."))

    @staticmethod
    def initial(experiment) -> dict:
        route = experiment.procurement_route
        return {
            "route": route.value if route and route != ProcurementRoute.UNDECIDED else "",
            "value": experiment.procurement_value,
            "awarded": {None: "unknown", True: "yes", False: "no"}[experiment.procurement_awarded],
        }

    def to_data(self) -> ProcurementData:
        return ProcurementData(route=ProcurementRoute(self.route.data) if self.route.data else None,
                               value=self.value.data, awarded=AWARDED[self.awarded.data])


class InviteForm(FlaskForm):
    """Invite one more municipality or start-up; the service refuses one already invited or taking part."""

    organisation = SelectField(_l("Organisation"), coerce=optional_int, choices=[], validate_choice=False,
                               validators=[DataRequired(message=_l("Choose an organisation."))])

    def __init__(self, *args, organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation.choices = [("", _l("Choose an organisation"))] + [
            (o.id, f"{o.name} \u00b7 {o.kind.label}") for o in organisations]


class ConfirmForm(FlaskForm):
    """An empty form: only the CSRF token (delete buttons)."""
