from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from proeftuin.blueprints.fields import MultiCheckboxField, SingleLineField
from proeftuin.enums import Language, ProcurementRoute, Theme
from proeftuin.services.challenges import ChallengeData


class ChallengeForm(FlaskForm):
    title = SingleLineField(_l("Title"), validators=[DataRequired(), Length(min=5, max=160)])
    summary = TextAreaField(
        _l("Summary"),
        validators=[DataRequired(), Length(min=20, max=600)],
        description=_l("Two sentences that make a start-up want to read on."),
    )
    problem = TextAreaField(
        _l("The problem"),
        validators=[DataRequired(), Length(min=50, max=10000)],
        description=_l("Describe the problem, who has it and why it matters; not the solution you have in mind."),
    )
    desired_outcome = TextAreaField(
        _l("Desired outcome"),
        validators=[DataRequired(), Length(min=20, max=5000)],
        description=_l("What is better when the challenge is solved? Measurable where possible."),
    )
    constraints = TextAreaField(_l("Constraints"), validators=[Optional(), Length(max=5000)],
                                description=_l("Privacy, existing systems, location, timing."))
    evaluation_criteria = TextAreaField(_l("How proposals will be evaluated"),
                                        validators=[Optional(), Length(max=5000)])
    themes = MultiCheckboxField(
        _l("Themes"), choices=[], validators=[DataRequired(message=_l("Choose at least one theme."))]
    )
    language = SelectField(_l("Language of this text"), choices=[])
    procurement_route = SelectField(_l("Procurement route"), choices=[])
    budget_min = IntegerField(_l("Budget from (euro)"), validators=[Optional(), NumberRange(min=0, max=100_000_000)])
    budget_max = IntegerField(_l("Budget up to (euro)"), validators=[Optional(), NumberRange(min=0, max=100_000_000)])
    deadline = DateField(_l("Deadline for proposals"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.themes.choices = Theme.choices()
        self.language.choices = Language.choices()
        self.procurement_route.choices = ProcurementRoute.choices()

    def to_data(self) -> ChallengeData:
        return ChallengeData(
            title=self.title.data.strip(),
            summary=self.summary.data.strip(),
            problem=self.problem.data.strip(),
            desired_outcome=self.desired_outcome.data.strip(),
            constraints=(self.constraints.data or "").strip() or None,
            evaluation_criteria=(self.evaluation_criteria.data or "").strip() or None,
            themes=[Theme(t) for t in self.themes.data],
            language=Language(self.language.data),
            procurement_route=ProcurementRoute(self.procurement_route.data),
            budget_min=self.budget_min.data,
            budget_max=self.budget_max.data,
            deadline=self.deadline.data,
        )

    @classmethod
    def for_challenge(cls, challenge) -> ChallengeForm:
        form = cls(obj=challenge)
        if not form.is_submitted():
            form.themes.data = [t.value for t in challenge.themes]
            form.language.data = challenge.language.value
            form.procurement_route.data = challenge.procurement_route.value
        return form


class StatusForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])


class ApplyForm(FlaskForm):
    proposal = TextAreaField(
        _l("Your proposal"),
        validators=[DataRequired(), Length(min=50, max=20000)],
        description=_l(
            "How would you tackle the problem, in what time, with what result? "
            "Only the municipality and the support point can read it."
        ),
    )
