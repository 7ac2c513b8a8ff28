"""Forms of the experiment pages."""
from __future__ import annotations

from datetime import date

from babel.numbers import NumberFormatError, parse_decimal
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FloatField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import TextInput

from proeftuin.blueprints.fields import MultiCheckboxField
from proeftuin.enums import Decision, ExperimentStatus, ProcurementRoute
from proeftuin.services.experiments import ExperimentData, KpiData, PlanData, ProcurementData


def optional_int(value) -> int | None:
    """Coerce a select's value; the empty placeholder gives None (and DataRequired then complains)."""
    if value in (None, ""):
        return None
    return int(value)


SPACES = (" ", "\u00a0", "\u202f", "'")


def parse_number(text: str, locale: str) -> float:
    """A number as people type it: "12,5" and "1.250" in Dutch, "12.5" and "1,250" in English.

    Raises:
        ValueError: the text is not a number.
    """
    raw = text.strip()
    for space in SPACES:
        raw = raw.replace(space, "")
    if not raw:
        raise ValueError("empty")
    try:
        return float(parse_decimal(raw, locale=locale, strict=True))
    except (NumberFormatError, ValueError):
        pass
    try:
        return float(raw)
    except ValueError:
        if raw.count(",") == 1 and "." not in raw:
            return float(raw.replace(",", "."))
        raise


def show_number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(value)


class LocalFloatField(FloatField):
    """A float that accepts the reader's decimal comma as well as a decimal point.

    Rendered as a text input with a decimal keyboard rather than `type=number`, which rejects a
    comma in some browsers and locales (the GOV.UK design system advises the same).
    """

    widget = TextInput()

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = parse_number(valuelist[0], str(get_locale() or "nl"))
        except ValueError as exc:
            self.data = None
            raise ValueError(self.gettext("Not a valid number.")) from exc

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return show_number(self.data)


TERMS_HINTS = {
    "ip_terms": _l("Who owns the results and the intellectual property? May the start-up reuse them elsewhere?"),
    "equipment_terms": _l("Who pays for the equipment, its installation and its removal after the pilot?"),
    "data_terms": _l("Which data is shared, with whom, for how long, and under which privacy terms?"),
}


class PlanForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=160)])
    hypothesis = TextAreaField(
        _l("Hypothesis"), validators=[DataRequired(), Length(max=5000)],
        description=_l("What should the experiment show? For example: with sensors at the school gate, "
                       "fewer cars stop there within three months."))
    startups = MultiCheckboxField(_l("Start-ups"), coerce=int, choices=[],
                                  validators=[DataRequired(message=_l("Choose at least one start-up."))])
    municipalities = MultiCheckboxField(
        _l("Municipalities"), coerce=int, choices=[],
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

    def set_choices(self, startups, municipalities) -> None:
        self.startups.choices = [(o.id, o.name) for o in startups]
        self.municipalities.choices = [(o.id, o.name) for o in municipalities]

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
        form = cls(obj=experiment)
        if not form.is_submitted():
            form.startups.data = [o.id for o in experiment.startups]
            form.municipalities.data = [o.id for o in experiment.municipalities]
        return form


class ExperimentForm(PlanForm):
    challenge = SelectField(_l("Challenge"), coerce=optional_int, choices=[],
                            validators=[DataRequired(message=_l("Choose the challenge."))])
    suggestion_id = HiddenField()
    buyer_group_id = HiddenField()

    @staticmethod
    def _int_or_none(value) -> int | None:
        try:
            return int(value) if value not in (None, "") else None
        except (TypeError, ValueError):
            return None

    def to_data(self) -> ExperimentData:
        return ExperimentData(
            **self.plan_values(),
            challenge_id=self.challenge.data,
            suggestion_id=self._int_or_none(self.suggestion_id.data),
            buyer_group_id=self._int_or_none(self.buyer_group_id.data),
        )


class KpiForm(FlaskForm):
    name = StringField(_l("KPI"), validators=[DataRequired(), Length(max=160)],
                       description=_l("What you measure, for example: cars stopping at the school gate per morning."))
    unit = StringField(_l("Unit"), validators=[DataRequired(), Length(max=40)],
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

    kpi = SelectField(_l("KPI"), coerce=int, choices=[], validators=[InputRequired()])
    measured_on = DateField(_l("Date"), validators=[InputRequired()], default=date.today)
    value = LocalFloatField(_l("Value"), validators=[InputRequired()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)],
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
                         validators=[Optional(), NumberRange(min=0, max=10_000_000_000)])
    awarded = RadioField(_l("Awarded"), choices=[("unknown", _l("Not known yet")), ("yes", _l("Yes")),
                                                  ("no", _l("No"))],
                         default="unknown", validators=[InputRequired(), AnyOf(list(AWARDED))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.route.choices = [("", _l("Not chosen yet"))] + [
            (value, label) for value, label in ProcurementRoute.choices() if value != ProcurementRoute.UNDECIDED]

    def validate_route(self, field) -> None:
        if field.data and field.data not in ProcurementRoute.values():
            raise ValueError(_l("Choose one of the listed routes."))

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


class ConfirmForm(FlaskForm):
    """An empty form: only the CSRF token (delete buttons)."""
