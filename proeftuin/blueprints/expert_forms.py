"""Forms of the expert pool: expertise profile, question, assignment, thread, answer, publication."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from proeftuin.blueprints.fields import MultiCheckboxField, SingleLineField
from proeftuin.enums import ExpertArea, Language
from proeftuin.services.experts import CONFIRM_TEXT, ProfileData, PublicText, QuestionData


class ExpertProfileForm(FlaskForm):
    areas = MultiCheckboxField(_l("Areas of expertise"), choices=[],
                               validators=[DataRequired(message=_l("Choose at least one area."))])
    expertise = TextAreaField(
        _l("What do you know?"),
        validators=[DataRequired(), Length(min=30, max=5000)],
        description=_l("Topics, procedures and kinds of questions you can answer, in your own words. "
                       "Questions are matched to this text in any language."),
    )
    language = SelectField(_l("Language of this description"), choices=[])
    languages = MultiCheckboxField(_l("Languages you answer in"), choices=[],
                                   validators=[DataRequired(message=_l("Choose at least one language."))])
    available = BooleanField(_l("Available for new questions"), default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.areas.choices = ExpertArea.choices()
        self.language.choices = Language.choices()
        self.languages.choices = Language.choices()

    def fill_from(self, profile, locale: str) -> None:
        if self.is_submitted():
            return
        if profile is None:
            self.language.data = locale
            self.languages.data = [locale]
            self.available.data = True
            return
        self.areas.data = list(profile.areas or [])
        self.expertise.data = profile.expertise
        self.language.data = profile.language.value
        self.languages.data = list(profile.languages or [])
        self.available.data = profile.available

    def to_data(self) -> ProfileData:
        return ProfileData(
            areas=[ExpertArea(a) for a in self.areas.data],
            expertise=self.expertise.data.strip(),
            languages=[Language(v) for v in self.languages.data],
            language=Language(self.language.data),
            available=bool(self.available.data),
        )


class QuestionForm(FlaskForm):
    title = SingleLineField(_l("Your question in one line"), validators=[DataRequired(), Length(min=5, max=200)])
    question = TextAreaField(
        _l("Your question"),
        validators=[DataRequired(), Length(min=20, max=10000)],
        description=_l("The situation, what you want to do and what you are unsure about. Only the support "
                       "point and its experts read this; it is never published with your names."),
    )
    area = SelectField(_l("Area"), choices=[])
    challenge_id = SelectField(_l("About one of your challenges (optional)"), choices=[])
    language = SelectField(_l("Language of your question"), choices=[])

    def __init__(self, *args, challenges=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.area.choices = ExpertArea.choices()
        self.language.choices = Language.choices()
        self.challenge_id.choices = [("", _l("No particular challenge"))] + [(str(c.id), c.title) for c in challenges]

    def to_data(self) -> QuestionData:
        return QuestionData(
            area=ExpertArea(self.area.data),
            title=self.title.data.strip(),
            question=self.question.data.strip(),
            language=Language(self.language.data),
            challenge_id=int(self.challenge_id.data) if self.challenge_id.data else None,
        )


class AssignForm(FlaskForm):
    expert_id = SelectField(_l("Expert"), choices=[], validators=[InputRequired()])
    due_on = DateField(_l("Answer due on"), validators=[InputRequired()])

    def __init__(self, *args, experts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.expert_id.choices = [(str(u.id), u.name) for u in experts]


class MessageForm(FlaskForm):
    body = TextAreaField(_l("Message"), validators=[DataRequired(), Length(min=1, max=5000)])


class AnswerForm(FlaskForm):
    answer = TextAreaField(
        _l("Answer"),
        validators=[DataRequired(), Length(min=20, max=20000)],
        description=_l("The municipality is told by e-mail. You can publish an anonymised copy afterwards."),
    )


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token (close, unpublish)."""


class PublishForm(FlaskForm):
    title = SingleLineField(_l("Public title"), validators=[DataRequired(), Length(min=5, max=200)])
    question = TextAreaField(_l("Public question"), validators=[DataRequired(), Length(min=20, max=20000)])
    answer = TextAreaField(_l("Public answer"), validators=[DataRequired(), Length(min=20, max=20000)])
    confirm = BooleanField(_l("I have read the text and it contains no personal data."),
                           validators=[DataRequired(message=CONFIRM_TEXT)])

    def to_public(self) -> PublicText:
        return PublicText(title=self.title.data, question=self.question.data, answer=self.answer.data)
