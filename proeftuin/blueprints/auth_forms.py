from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, RadioField, SelectField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from proeftuin.blueprints.fields import SingleLineField, WebsiteField
from proeftuin.enums import OrgKind, Region


class RegisterForm(FlaskForm):
    kind = RadioField(
        _l("I register for"),
        choices=[(OrgKind.MUNICIPALITY.value, _l("a municipality")), (OrgKind.STARTUP.value, _l("a start-up"))],
        validators=[DataRequired()],
    )
    # No Optional() on the fields below: it would stop the chain before the validate_<field>
    # methods that require them for one kind of registration.
    municipality = SelectField(_l("Municipality"), choices=[], default="", validate_choice=False)
    organisation_name = SingleLineField(_l("Company name"), validators=[Length(max=160)])
    region = SelectField(_l("Where is the company based?"), choices=[], default="")
    website = WebsiteField(_l("Website"))
    name = SingleLineField(_l("Your name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(min=8, max=256)],
        description=_l("At least 8 characters. A sentence you remember is best."),
    )
    password_repeat = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
    )
    # Issue 10: someone whose municipality or start-up is registered already asks to join it.
    join = BooleanField(_l("My organisation already has an account: ask its admins to let me join"))
    join_message = SingleLineField(_l("A word for the admins (optional)"), validators=[Length(max=300)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.region.choices = [("", "—")] + Region.choices()

    def validate_municipality(self, field):
        if self.kind.data == OrgKind.MUNICIPALITY.value and not field.data:
            raise ValidationError(_l("Choose your municipality."))

    def validate_organisation_name(self, field):
        if self.kind.data == OrgKind.STARTUP.value and not (field.data or "").strip():
            raise ValidationError(_l("Enter the name of your company."))

    def validate_region(self, field):
        if self.kind.data == OrgKind.STARTUP.value and not field.data:
            raise ValidationError(_l("Choose where the company is based."))


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    remember = BooleanField(_l("Keep me logged in on this device"))


class ResetRequestForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Email(), Length(max=254)])


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=256)])
    password_repeat = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=256)])
    new_password_repeat = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords do not match."))],
    )


class OrganisationForm(FlaskForm):
    """The organisation settings on the account page (its name, for now)."""

    organisation_name = SingleLineField(_l("Name of the organisation"), validators=[DataRequired(), Length(max=160)])


LANGUAGE_CHOICES = [("nl", "Nederlands"), ("fr", "Français"), ("en", "English")]


class ProfileForm(FlaskForm):
    """Name and language on the account page."""

    name = SingleLineField(_l("Your name"), validators=[DataRequired(), Length(max=120)])
    locale = SelectField(_l("Language of the site and of mail"), choices=LANGUAGE_CHOICES)


class EmailChangeForm(FlaskForm):
    new_email = EmailField(_l("New e-mail address"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Your password"), validators=[DataRequired(), Length(max=256)],
                             description=_l("To be sure it is you."))


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token (confirm the new address, download the export)."""


class DeleteAccountForm(FlaskForm):
    password = PasswordField(_l("Your password"), validators=[DataRequired(), Length(max=256)])
    confirm = BooleanField(_l("I understand that this cannot be undone"),
                           validators=[DataRequired(message=_l("Tick the box to confirm."))])
