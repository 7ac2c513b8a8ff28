"""Forms of the organisation's team page (issue 10): invitations, roles, join requests."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField
from wtforms.validators import AnyOf, DataRequired, Email, EqualTo, Length

from proeftuin.blueprints.fields import SingleLineField
from proeftuin.enums import OrgRole


def _stripped(value):
    return value.strip() if isinstance(value, str) else value


class InviteForm(FlaskForm):
    email = EmailField(_l("E-mail address of your colleague"), filters=[_stripped],
                       validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField(_l("Role"), choices=[], default=OrgRole.MEMBER.value,
                       validators=[AnyOf(sorted(OrgRole.values()), message=_l("Choose a role."))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = OrgRole.choices()


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=[],
                       validators=[AnyOf(sorted(OrgRole.values()), message=_l("Choose a role."))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = OrgRole.choices()


class DecisionForm(FlaskForm):
    decision = HiddenField(validators=[AnyOf(["approve", "refuse"])])


class ConfirmForm(FlaskForm):
    """A button only (CSRF): re-send, revoke, remove, leave, join."""


class AcceptForm(FlaskForm):
    name = SingleLineField(_l("Your name"), validators=[DataRequired(), Length(max=120)])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(min=8, max=256)],
        description=_l("At least 8 characters. A sentence you remember is best."),
    )
    password_repeat = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
    )
