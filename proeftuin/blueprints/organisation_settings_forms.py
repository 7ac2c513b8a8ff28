"""Forms of the organisation settings page (issue 10): settings, logo upload and removal."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import EmailField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from proeftuin.blueprints.fields import MultiCheckboxField, SingleLineField, WebsiteField
from proeftuin.enums import Language, OrgKind, Region
from proeftuin.models import Organisation
from proeftuin.services import InvalidInput
from proeftuin.services import organisation_settings as settings
from proeftuin.services.organisation_settings import SettingsData


class SettingsForm(FlaskForm):
    """Name and region only for a start-up: a municipality's come from the municipality list."""

    name = SingleLineField(_l("Name of the organisation"),
                           validators=[DataRequired(), Length(max=settings.NAME_MAX)])
    region = SelectField(_l("Where is the company based?"), choices=[])
    website = WebsiteField(_l("Website"), validators=[Length(max=settings.WEBSITE_MAX)])
    description = TextAreaField(
        _l("Short description"),
        description=_l("What your organisation does, in a few sentences. At most %(max)d characters.",
                       max=settings.DESCRIPTION_MAX),
    )
    contact_email = EmailField(
        _l("Contact e-mail address"),
        validators=[Optional(), Email(message=_l("Enter a valid e-mail address.")), Length(max=settings.EMAIL_MAX)],
        description=_l("Shown only to organisations the support point introduced to you."),
    )
    contact_phone = SingleLineField(
        _l("Contact phone number"), validators=[Optional(), Length(max=40)],
        description=_l("Shown only to organisations the support point introduced to you."),
    )
    languages = MultiCheckboxField(_l("Languages you work in"), choices=[])

    def __init__(self, organisation: Organisation, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.languages.choices = Language.choices()
        if organisation.kind == OrgKind.STARTUP:
            self.region.choices = Region.choices()
        else:
            # Not editable: the fields are not on the form, so what a forged POST sends is never read.
            del self.name
            del self.region
        if kwargs.get("formdata", True) is None or not self.is_submitted():
            for field in ("name", "website", "description", "contact_email"):
                if field in self:
                    self[field].data = getattr(organisation, field)
            if "region" in self:
                self.region.data = organisation.region.value
            self.contact_phone.data = settings.format_phone(organisation.contact_phone)
            self.languages.data = list(organisation.languages or [])

    def validate_description(self, field):
        if len((field.data or "").replace("\r\n", "\n").strip()) > settings.DESCRIPTION_MAX:
            raise ValidationError(settings.description_too_long_message())

    def validate_contact_phone(self, field):
        try:
            settings.parse_phone(field.data)
        except InvalidInput as exc:
            raise ValidationError(exc.message) from exc

    def to_data(self) -> SettingsData:
        return SettingsData(
            website=self.website.data,
            description=self.description.data,
            contact_email=self.contact_email.data,
            contact_phone=self.contact_phone.data,
            languages=list(self.languages.data or []),
            name=self.name.data if "name" in self else None,
            region=self.region.data if "region" in self else None,
        )


class LogoForm(FlaskForm):
    logo = FileField(_l("Logo"), validators=[FileRequired(message=_l("Choose an image file."))])

    def __init__(self, max_mb: int, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.logo.description = _l("PNG, JPEG or WebP, at most %(size)d MB. Logos are public: everyone sees "
                                   "them on your organisation's pages.", size=max_mb)


class RemoveLogoForm(FlaskForm):
    """Only the CSRF token."""
