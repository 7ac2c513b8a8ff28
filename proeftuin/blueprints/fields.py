"""Form fields and helpers shared by the blueprints' forms."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from wtforms import SelectMultipleField, URLField
from wtforms.validators import Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def http_url(form, field) -> None:
    """Only http(s) links: no javascript:, data: or relative URLs."""
    if field.data:
        parts = urlsplit(field.data.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValidationError(_l("Enter a web address starting with http:// or https://."))


class WebsiteField(URLField):
    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators=[Optional(), http_url, *(validators or [])], **kwargs)


def apply_domain_error(form, exc) -> bool:
    """Attach a service error to its form field; return False when it names no field."""
    field = getattr(form, exc.field, None) if exc.field else None
    if field is None:
        return False
    field.errors = [*field.errors, exc.message] if isinstance(field.errors, list) else [exc.message]
    return True
