from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from proeftuin.blueprints.fields import MultiCheckboxField, SingleLineField, WebsiteField
from proeftuin.enums import Language, Maturity, Region, Theme
from proeftuin.services.profiles import ProfileData


class ProfileForm(FlaskForm):
    tagline = SingleLineField(_l("Tagline"), validators=[DataRequired(), Length(min=10, max=160)],
                          description=_l("What you do, in one line."))
    capabilities = TextAreaField(
        _l("What can you do?"),
        validators=[DataRequired(), Length(min=50, max=10000)],
        description=_l("Your solution, the problems it solves, the technology and how a pilot would look."),
    )
    references = TextAreaField(_l("References"), validators=[Optional(), Length(max=5000)],
                               description=_l("Earlier pilots and clients."))
    themes = MultiCheckboxField(
        _l("Themes"), choices=[], validators=[DataRequired(message=_l("Choose at least one theme."))]
    )
    maturity = SelectField(_l("Maturity"), choices=[])
    trl = IntegerField(_l("Technology readiness level (1-9)"), validators=[Optional(), NumberRange(min=1, max=9)])
    team_size = IntegerField(_l("Team size"), validators=[Optional(), NumberRange(min=1, max=100000)])
    language = SelectField(_l("Language of this profile"), choices=[])
    languages = MultiCheckboxField(_l("Languages you work in"), choices=[])
    regions_served = MultiCheckboxField(_l("Regions you serve"), choices=[])
    website = WebsiteField(_l("Website"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.themes.choices = Theme.choices()
        self.maturity.choices = Maturity.choices()
        self.language.choices = Language.choices()
        self.languages.choices = Language.choices()
        self.regions_served.choices = Region.choices()

    def fill_from(self, profile, organisation) -> None:
        if self.is_submitted():
            return
        self.website.data = organisation.website
        if profile is None:
            return
        self.process(obj=profile)
        self.website.data = organisation.website
        self.themes.data = [t.value for t in profile.themes]
        self.maturity.data = profile.maturity.value
        self.language.data = profile.language.value
        self.languages.data = list(profile.languages or [])
        self.regions_served.data = list(profile.regions_served or [])

    def to_data(self) -> ProfileData:
        return ProfileData(
            tagline=self.tagline.data.strip(),
            capabilities=self.capabilities.data.strip(),
            references=(self.references.data or "").strip() or None,
            themes=[Theme(t) for t in self.themes.data],
            maturity=Maturity(self.maturity.data),
            trl=self.trl.data,
            team_size=self.team_size.data,
            language=Language(self.language.data),
            languages=list(self.languages.data or []),
            regions_served=list(self.regions_served.data or []),
            website=(self.website.data or "").strip(),
        )
