"""Form fields and helpers shared by the blueprints' forms.

This is the input layer of the forms: every single-line text field is a `SingleLineField` (no line
breaks or control characters), every number with decimals a `LocalFloatField` (finite, bounded),
and every id read from a form goes through `id_value`.
"""
from __future__ import annotations

import math
import unicodedata
from urllib.parse import urlsplit

from babel.numbers import NumberFormatError, parse_decimal
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import FloatField, SelectMultipleField, StringField, URLField
from wtforms.validators import Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget, TextInput

from proeftuin.services import InvalidInput
from proeftuin.services.listing import parse_id

# Decimal numbers beyond this are refused as a typing error; services may bound lower (a KPI: 1e12).
MAX_NUMBER = 1e15


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


# ---- single-line text --------------------------------------------------------------------------

LINE_SEPARATORS = frozenset("\u2028\u2029")


def has_control_characters(text: str) -> bool:
    """True for CR, LF, tab, NUL and the other C0/C1 controls, and the Unicode line separators."""
    return any(unicodedata.category(ch) == "Cc" or ch in LINE_SEPARATORS for ch in text)


def single_line(form, field) -> None:
    """Refuse line breaks and other control characters (a title ends up in mail subjects and headers)."""
    if field.data and has_control_characters(field.data):
        raise ValidationError(_l("Write this on one line, without line breaks or other control characters."))


class SingleLineField(StringField):
    """A one-line text input: its value never holds a line break or another control character."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators=[*(validators or []), single_line], **kwargs)


# ---- numbers -----------------------------------------------------------------------------------

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

    Only finite numbers up to `MAX_NUMBER` are accepted: "nan", "inf" or "1e400" are a form error,
    never a value (NaN breaks comparisons, charts and PostgreSQL's ordering).

    Rendered as a text input with a decimal keyboard rather than `type=number`, which rejects a
    comma in some browsers and locales (the GOV.UK design system advises the same).
    """

    widget = TextInput()

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            number = parse_number(valuelist[0], str(get_locale() or "nl"))
        except (ValueError, ArithmeticError) as exc:
            self.data = None
            raise ValueError(str(_l("Not a valid number."))) from exc
        if not math.isfinite(number) or abs(number) > MAX_NUMBER:
            self.data = None
            raise ValueError(str(_l("Enter an ordinary number: not infinity or NaN, and at most 15 digits.")))
        self.data = number

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return show_number(self.data)


# ---- ids ---------------------------------------------------------------------------------------

def id_value(value) -> int:
    """`coerce` for a select of ids: a positive number an id column can hold.

    Raises:
        ValueError: anything else (WTForms turns it into the field's error).
    """
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    try:
        return parse_id(value)
    except (InvalidInput, TypeError) as exc:
        raise ValueError("not an id") from exc
