"""Organisation settings (issue 10): what an organisation says about itself, its contacts and its logo.

Who may:
- every member of the organisation (admins, members, viewers) reads the settings;
- only its admins (`policy.is_org_admin`) change them, upload or remove the logo;
- a municipality's official name, NIS code and region come from the municipality list
  (`Municipality`) and are never changed here, whatever a form sends.

What others see (`contacts_visible`): the description, website, languages and logo are public;
the contact e-mail and phone only to parties that were introduced, by the rule the platform
already follows for the members' addresses (the match page after an accepted suggestion, the
experiment page for its parties): the organisation's own members, the support point, an
organisation that a facilitator introduced to it (an accepted match suggestion between them), and
the fellow parties of an experiment.

Logos (SECURITY.md T17) are public: they appear on public pages. An upload is size-limited
(`LOGO_MAX_BYTES`), opened by Pillow with only the PNG, JPEG and WebP decoders (so SVG, HTML,
PDF, or anything under a borrowed extension, is refused by its content), checked against
`LOGO_MAX_PIXELS` (decompression bombs), re-encoded (EXIF and other metadata dropped) at most
512 px wide or high, and stored under a random name in `LOGO_DIR` (default instance/logos), outside
static/. The uploaded file name is never used. The old file is deleted after the commit that
replaces it.
"""
from __future__ import annotations

import logging
import os
import re
import secrets
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO

import phonenumbers
import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

from proeftuin.enums import Language, OrgKind, ParticipationState, Region, SuggestionStatus
from proeftuin.extensions import db
from proeftuin.models import Challenge, MatchSuggestion, Organisation, StartupProfile, User
from proeftuin.policy import is_org_admin, is_org_member, is_staff
from proeftuin.services import Forbidden, InvalidInput, NotFound, audit

logger = logging.getLogger(__name__)

NAME_MAX = 160
WEBSITE_MAX = 300
EMAIL_MAX = 254
DESCRIPTION_MAX = 600
PHONE_REGION = "BE"  # a number typed without +32 is read as Belgian
LOGO_SIZE = 512  # px, the longer side at most
# Pillow format name -> (content type, file extension) of what is stored and served.
LOGO_FORMATS = {"PNG": ("image/png", ".png"), "JPEG": ("image/jpeg", ".jpg"), "WEBP": ("image/webp", ".webp")}
LOGO_NAME = re.compile(r"^[0-9a-f]{32}\.(png|jpg|webp)$")


# ---- reading --------------------------------------------------------------------------------

def get_own(actor: User) -> Organisation:
    """The actor's own municipality or start-up, for any of its members (viewers included).

    Raises:
        NotFound: the actor is not a member of a municipality or start-up (staff, a pending join
            request, an anonymous visitor).
    """
    org = actor.organisation if actor is not None and getattr(actor, "organisation_id", None) else None
    if org is None or org.kind not in (OrgKind.MUNICIPALITY, OrgKind.STARTUP) or not is_org_member(actor, org):
        raise NotFound()
    return org


def get_own_for_change(actor: User) -> Organisation:
    """The actor's own organisation, when the actor is one of its admins.

    Raises:
        NotFound: not a member (see `get_own`).
        Forbidden: a member or viewer, who sees the settings but cannot change them.
    """
    org = get_own(actor)
    if not is_org_admin(actor, org):
        raise Forbidden(str(_l("Only an administrator of your organisation can change its settings.")))
    return org


def official_name(org: Organisation, locale: str = "nl") -> str:
    """The name others see: a municipality's name from the municipality list, else the organisation's."""
    return org.municipality.name(locale) if org.municipality is not None else org.name


def contacts_visible(viewer: User | None, org: Organisation) -> bool:
    """Whether `viewer` may see the organisation's contact e-mail and phone (the module docstring)."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return False
    if is_staff(viewer) or is_org_member(viewer, org):
        return True
    own = viewer.organisation_id
    if own is None or viewer.org_role is None or own == org.id:
        return False
    introduced = (
        sa.select(MatchSuggestion.id)
        .join(Challenge, MatchSuggestion.challenge_id == Challenge.id)
        .join(StartupProfile, MatchSuggestion.profile_id == StartupProfile.id)
        .where(MatchSuggestion.status == SuggestionStatus.ACCEPTED)
        .where(sa.or_(
            sa.and_(Challenge.organisation_id == own, StartupProfile.organisation_id == org.id),
            sa.and_(Challenge.organisation_id == org.id, StartupProfile.organisation_id == own),
        ))
        .limit(1)
    )
    if db.session.scalar(introduced) is not None:
        return True
    return _share_an_experiment(own, org.id)


def _share_an_experiment(org_a: int, org_b: int) -> bool:
    from proeftuin.models.experiment import experiment_municipality, experiment_startup

    parties = sa.union_all(*(
        sa.select(table.c.experiment_id, table.c.organisation_id)
        .where(table.c.state == ParticipationState.ACCEPTED)
        for table in (experiment_startup, experiment_municipality)
    )).subquery()
    a, b = parties.alias("a"), parties.alias("b")
    stmt = (sa.select(a.c.experiment_id)
            .join(b, a.c.experiment_id == b.c.experiment_id)
            .where(a.c.organisation_id == org_a, b.c.organisation_id == org_b)
            .limit(1))
    return db.session.scalar(stmt) is not None


def logo_visible(viewer: User | None, org: Organisation) -> bool:
    """Logos are public once the organisation is verified; before that only its members and staff see it."""
    if not org.logo_file:
        return False
    return org.is_verified or is_staff(viewer) or is_org_member(viewer, org)


def logo_for(viewer: User | None, org_id: int) -> tuple[Organisation, str]:
    """The organisation and the path of its stored logo, for the logo route.

    Raises:
        NotFound: no such organisation, no logo, or a logo the viewer may not see yet.
    """
    org = db.session.get(Organisation, org_id)
    if org is None or not logo_visible(viewer, org) or not LOGO_NAME.match(org.logo_file or ""):
        raise NotFound()
    path = os.path.join(logo_dir(), org.logo_file)
    if not os.path.isfile(path):
        logger.warning("organisation.logo missing file org=%s", org.id)
        raise NotFound()
    return org, path


def format_phone(e164: str | None) -> str:
    """A stored E.164 number as people read it (+32 9 210 10 10); '' for none."""
    if not e164:
        return ""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, None),
                                          phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164


# ---- checking input -------------------------------------------------------------------------

def parse_phone(text: str | None) -> str | None:
    """A phone number as typed (09 210 10 10, +32 9 210 10 10) in E.164 (+3292101010); None for blank.

    Raises:
        InvalidInput: not a possible, valid phone number (field "contact_phone").
    """
    text = (text or "").strip()
    if not text:
        return None
    message = str(_l("Enter a valid phone number, for example 09 210 10 10 or +32 9 210 10 10."))
    if len(text) > 40:
        raise InvalidInput(message, "contact_phone")
    try:
        number = phonenumbers.parse(text, PHONE_REGION)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(message, "contact_phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(message, "contact_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _check_website(text: str | None) -> str | None:
    from urllib.parse import urlsplit

    text = (text or "").strip()
    if not text:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(text) > WEBSITE_MAX \
            or any(ch.isspace() for ch in text):
        raise InvalidInput(str(_l("Enter a web address starting with http:// or https://.")), "website")
    return text


def _check_email(text: str | None) -> str | None:
    text = (text or "").strip()
    if not text:
        return None
    message = str(_l("Enter a valid e-mail address."))
    if len(text) > EMAIL_MAX:
        raise InvalidInput(message, "contact_email")
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidInput(message, "contact_email") from exc


def description_too_long_message() -> str:
    return str(_l("Use at most %(max)d characters (you wrote more). Shorten the description.",
                  max=DESCRIPTION_MAX))


def _check_description(text: str | None) -> str | None:
    text = (text or "").replace("\r\n", "\n").strip()
    if len(text) > DESCRIPTION_MAX:
        raise InvalidInput(description_too_long_message(), "description")
    return text or None


# ---- changing -------------------------------------------------------------------------------

@dataclass
class SettingsData:
    """What the settings form sends. `name` and `region` are ignored for a municipality."""

    website: str | None = None
    description: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    languages: list[str] | None = None
    name: str | None = None
    region: str | None = None


def update(actor: User, data: SettingsData) -> Organisation:
    """Save the settings of the actor's organisation; audited with the fields that changed.

    A start-up that changes its name goes back to the verification queue (as
    `accounts.rename_organisation` does), so a verified account cannot take on another's name.

    Raises:
        NotFound: the actor is not a member of a municipality or start-up.
        Forbidden: the actor is not one of its admins.
        InvalidInput: a value that is not valid, naming its field.
    """
    org = get_own_for_change(actor)
    values: dict[str, object] = {
        "website": _check_website(data.website),
        "description": _check_description(data.description),
        "contact_email": _check_email(data.contact_email),
        "contact_phone": parse_phone(data.contact_phone),
        "languages": _check_languages(data.languages),
    }
    renamed: tuple[str, str] | None = None
    if org.kind == OrgKind.STARTUP:
        name = " ".join((data.name or "").split())
        if not name:
            raise InvalidInput(str(_l("Enter the name of your organisation.")), "name")
        if len(name) > NAME_MAX:
            raise InvalidInput(str(_l("Use at most 160 characters.")), "name")
        try:
            values["region"] = Region(data.region)
        except ValueError as exc:
            raise InvalidInput(str(_l("Choose where the company is based.")), "region") from exc
        if name != org.name:
            renamed = (org.name, name)
            org.name = name
    changed = [field for field, value in values.items() if getattr(org, field) != value]
    for field in changed:
        setattr(org, field, values[field])
    if renamed:
        audit.record(actor, "organisation.rename", org, old=renamed[0], new=renamed[1])
        if org.verified_at is not None:
            # A verified name is what others trust: a new one is checked again before it is public.
            org.verified_at = None
            audit.record(actor, "organisation.verification_reset", org, reason="rename")
    if changed or renamed:
        org.updated_at = datetime.now(UTC)
        audit.record(actor, "organisation.settings", org, fields=sorted(changed + (["name"] if renamed else [])))
    db.session.commit()
    return org


def _check_languages(codes: list[str] | None) -> list[str]:
    codes = list(codes or [])
    unknown = [c for c in codes if c not in Language.values()]
    if unknown:
        raise InvalidInput(str(_l("Choose languages from the list.")), "languages")
    return [lang.value for lang in Language if lang.value in codes]


# ---- the logo -------------------------------------------------------------------------------

def logo_dir() -> str:
    return current_app.config.get("LOGO_DIR") or os.path.join(current_app.instance_path, "logos")


def _refuse_logo(message: str | None = None) -> InvalidInput:
    return InvalidInput(message or str(_l("This file is not a PNG, JPEG or WebP image. Choose another file.")),
                        "logo")


def read_upload(stream, limit: int) -> bytes:
    """At most `limit` bytes of an uploaded file.

    Raises:
        InvalidInput: the file is empty or larger than `limit` (field "logo").
    """
    data = stream.read(limit + 1)
    if not data:
        raise _refuse_logo(str(_l("Choose an image file.")))
    if len(data) > limit:
        raise _refuse_logo(str(_l("The image is larger than %(size)d MB. Choose a smaller file.",
                                  size=max(1, limit // (1024 * 1024)))))
    return data


def reencode_logo(data: bytes, max_pixels: int) -> tuple[bytes, str, str]:
    """Check an uploaded image by its content and re-encode it.

    Only Pillow's PNG, JPEG and WebP decoders may open it; its declared size must stay under
    `max_pixels` (checked before anything is decoded); it is fully decoded (a truncated or corrupt
    file fails), turned upright by its EXIF orientation, shrunk to at most `LOGO_SIZE` px and
    written anew without any metadata (EXIF, XMP, ICC, text chunks).

    Returns:
        The new file's bytes, its content type and its extension.

    Raises:
        InvalidInput: not such an image, or too many pixels (field "logo").
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(BytesIO(data), formats=list(LOGO_FORMATS)) as probe:
                kind = probe.format
                width, height = probe.size
                if width * height > max_pixels:
                    raise _refuse_logo(str(_l("This image has too many pixels. Use one of at most %(px)s pixels.",
                                              px=f"{max_pixels:,}".replace(",", "\u202f"))))
                probe.verify()
            with Image.open(BytesIO(data), formats=list(LOGO_FORMATS)) as image:
                if kind == "JPEG":
                    image.draft("RGB", (LOGO_SIZE * 2, LOGO_SIZE * 2))  # decode a large JPEG scaled down
                image.load()
                upright = ImageOps.exif_transpose(image)
                has_alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
                clean = upright.convert("RGBA" if has_alpha and kind != "JPEG" else "RGB")
        except InvalidInput:
            raise
        except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning,
                OSError, SyntaxError, ValueError, EOFError, TypeError) as exc:
            logger.info("organisation.logo refused: %s", type(exc).__name__)
            raise _refuse_logo() from exc
    clean.thumbnail((LOGO_SIZE, LOGO_SIZE), Image.Resampling.LANCZOS)
    clean.info = {}
    out = BytesIO()
    if kind == "JPEG":
        clean.save(out, "JPEG", quality=85, optimize=True)
    elif kind == "WEBP":
        clean.save(out, "WEBP", quality=85)
    else:
        clean.save(out, "PNG", optimize=True)
    content_type, extension = LOGO_FORMATS[kind]
    return out.getvalue(), content_type, extension


def set_logo(actor: User, stream) -> Organisation:
    """Replace the organisation's logo with an uploaded image (the module docstring says how).

    Args:
        actor: an admin of the organisation.
        stream: the uploaded file's stream; its name is never looked at.

    Raises:
        NotFound / Forbidden: as `get_own_for_change`.
        InvalidInput: too large, not an image of an accepted kind, too many pixels (field "logo").
    """
    org = get_own_for_change(actor)
    config = current_app.config
    blob, content_type, extension = reencode_logo(read_upload(stream, config["LOGO_MAX_BYTES"]),
                                                  config["LOGO_MAX_PIXELS"])
    folder = logo_dir()
    os.makedirs(folder, exist_ok=True)
    name = secrets.token_hex(16) + extension
    path = os.path.join(folder, name)
    with open(path, "xb") as handle:
        handle.write(blob)
    old = org.logo_file
    try:
        org.logo_file = name
        org.logo_content_type = content_type
        org.updated_at = datetime.now(UTC)
        audit.record(actor, "organisation.logo", org, content_type=content_type, bytes=len(blob),
                     replaced=bool(old))
        db.session.commit()
    except Exception:
        db.session.rollback()
        _delete_file(name)
        raise
    _delete_file(old)
    return org


def remove_logo(actor: User) -> Organisation:
    """Remove the organisation's logo (the file is deleted after the commit).

    Raises:
        NotFound / Forbidden: as `get_own_for_change`.
    """
    org = get_own_for_change(actor)
    old = org.logo_file
    if old:
        org.logo_file = None
        org.logo_content_type = None
        org.updated_at = datetime.now(UTC)
        audit.record(actor, "organisation.logo_removed", org)
        db.session.commit()
        _delete_file(old)
    return org


def _delete_file(name: str | None) -> None:
    """Delete a stored logo by its random name (anything else is never a path we made)."""
    if not name or not LOGO_NAME.match(name):
        return
    try:
        os.remove(os.path.join(logo_dir(), name))
    except FileNotFoundError:
        pass
    except OSError:
        logger.warning("organisation.logo could not delete %s", name)
