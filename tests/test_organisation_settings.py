"""Organisation settings (issue 10): who edits and who reads, what others see, and the logo (SECURITY.md T17)."""
from __future__ import annotations

import os
import struct
import zlib
from io import BytesIO

import pytest
import sqlalchemy as sa
from PIL import Image

from proeftuin.enums import OrgRole, Region, Role, SuggestionStatus
from proeftuin.extensions import db
from proeftuin.models import AuditEvent, MatchSuggestion, Organisation, User
from tests.conftest import login, make_user

SETTINGS = "/organisation/settings/"
LOGO = "/organisation/settings/logo"
REMOVE = "/organisation/settings/logo/remove"


# ---- helpers --------------------------------------------------------------------------------

def signed_in(app, email: str, locale: str = "en"):
    client = app.test_client()
    assert login(client, email).status_code == 302
    client.post("/language", data={"locale": locale})
    return client


def org(app, org_id: int) -> Organisation:
    with app.app_context():
        found = db.session.get(Organisation, org_id)
        db.session.expunge(found)
        return found


def image_bytes(fmt: str = "PNG", size=(64, 48), mode: str = "RGB", **save) -> bytes:
    buffer = BytesIO()
    Image.new(mode, size, (20, 120, 200) if mode == "RGB" else None).save(buffer, fmt, **save)
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that declares `width` x `height` pixels: a decompression bomb's shape."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) \
        + chunk(b"IEND", b"")


def upload(client, data: bytes, filename: str = "logo.png", content_type: str = "image/png"):
    return client.post(LOGO, data={"logo": (BytesIO(data), filename, content_type)},
                       content_type="multipart/form-data")


def logo_files(app) -> list[str]:
    folder = os.path.join(app.instance_path, "logos")
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def settings_form(**overrides) -> dict:
    data = {"name": "Startup A", "region": Region.ANTWERPEN.value, "website": "https://startup-a.example",
            "description": "We count bicycles near schools.", "contact_email": "hello@startup-a.example",
            "contact_phone": "09 210 10 10", "languages": ["nl", "en"]}
    data.update(overrides)
    return data


@pytest.fixture
def team(app, world):
    """A member and a viewer of Gent and of Startup A, and someone whose join request is pending."""
    ids = {}
    with app.app_context():
        gent = db.session.get(Organisation, world.ids["org_muniA"])
        startup = db.session.get(Organisation, world.ids["org_suA"])
        for key, role, organisation, org_role in [
            ("gent_member", Role.MUNICIPALITY, gent, OrgRole.MEMBER),
            ("gent_viewer", Role.MUNICIPALITY, gent, OrgRole.VIEWER),
            ("su_member", Role.STARTUP, startup, OrgRole.MEMBER),
            ("su_viewer", Role.STARTUP, startup, OrgRole.VIEWER),
        ]:
            ids[key] = make_user(f"{key}@example.org", role, organisation, org_role).id
        pending = make_user("pending@example.org", Role.STARTUP, startup)
        pending.org_role = None
        db.session.commit()
    return ids


# ---- who edits, who reads -------------------------------------------------------------------

def test_an_admin_edits_the_settings_and_the_public_page_shows_them(app, world):
    client = signed_in(app, world.emails["suA"])
    page = client.get(SETTINGS).get_data(as_text=True)
    assert 'name="website"' in page and 'name="name"' in page
    response = client.post(SETTINGS, data=settings_form())
    assert response.status_code == 302
    saved = org(app, world.ids["org_suA"])
    assert saved.website == "https://startup-a.example"
    assert saved.description == "We count bicycles near schools."
    assert saved.contact_phone == "+3292101010"  # E.164
    assert saved.languages == ["nl", "en"]
    assert saved.updated_at is not None
    assert "+32 9 210 10 10" in client.get(SETTINGS).get_data(as_text=True)  # shown formatted
    public = app.test_client().get(f"/startups/{world.slugs['suA']}").get_data(as_text=True)
    assert "We count bicycles near schools." in public
    assert "https://startup-a.example" in public
    assert "210 10 10" not in public and "hello@startup-a.example" not in public
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "organisation.settings"))
        assert event.actor_id == world.ids["suA"]
        assert set(event.detail["fields"]) >= {"website", "description", "contact_phone", "contact_email"}


def test_a_start_up_rename_is_verified_again(app, world):
    client = signed_in(app, world.emails["suA"])
    assert client.post(SETTINGS, data=settings_form(name="Startup A Renamed")).status_code == 302
    saved = org(app, world.ids["org_suA"])
    assert saved.name == "Startup A Renamed" and saved.verified_at is None
    with app.app_context():
        actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"organisation.rename", "organisation.verification_reset"} <= actions


@pytest.mark.parametrize("who", ["gent_member", "gent_viewer", "su_member", "su_viewer"])
def test_members_and_viewers_read_the_settings_but_change_nothing(app, world, team, who):
    with app.app_context():
        for key in ("org_muniA", "org_suA"):
            found = db.session.get(Organisation, world.ids[key])
            found.website, found.contact_phone = "https://shown.example", "+3292101010"
        db.session.commit()
    client = signed_in(app, f"{who}@example.org")
    page = client.get(SETTINGS)
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "https://shown.example" in body and "+32 9 210 10 10" in body
    assert 'name="website"' not in body and 'name="logo"' not in body
    assert client.post(SETTINGS, data=settings_form(website="https://evil.example")).status_code == 403
    assert upload(client, image_bytes()).status_code == 403
    assert client.post(REMOVE).status_code == 403
    org_id = world.ids["org_muniA" if who.startswith("gent") else "org_suA"]
    assert org(app, org_id).website == "https://shown.example"
    assert org(app, org_id).logo_file is None


def test_strangers_staff_and_anonymous_are_refused(app, world, team):
    anonymous = app.test_client()
    for method, url in [("GET", SETTINGS), ("POST", SETTINGS), ("POST", LOGO), ("POST", REMOVE)]:
        response = anonymous.open(url, method=method)
        assert response.status_code == 302 and "/auth/login" in response.location
    staff = signed_in(app, world.emails["facilitator"])
    assert staff.get(SETTINGS).status_code == 403
    assert staff.post(SETTINGS, data=settings_form()).status_code == 403
    pending = signed_in(app, "pending@example.org")  # a join request, not yet a member
    assert pending.get(SETTINGS).status_code == 404
    assert upload(pending, image_bytes()).status_code == 404
    # Another organisation's admin only ever reaches its own organisation's settings.
    other = signed_in(app, world.emails["suB"])
    assert other.post(SETTINGS, data=settings_form(name="Startup B", website="https://b.example")).status_code == 302
    assert org(app, world.ids["org_suA"]).website is None
    assert org(app, world.ids["org_suB"]).website == "https://b.example"


def test_a_municipalitys_official_name_nis_and_region_cannot_be_changed(app, world):
    client = signed_in(app, world.emails["muniA"])
    page = client.get(SETTINGS).get_data(as_text=True)
    assert "44021" in page and "Gent" in page
    assert 'name="name"' not in page and 'name="region"' not in page
    forged = settings_form(name="Evil town", region=Region.ABROAD.value, municipality_nis="11002",
                           website="https://stad.gent")
    assert client.post(SETTINGS, data=forged).status_code == 302
    saved = org(app, world.ids["org_muniA"])
    assert (saved.name, saved.municipality_nis, saved.region) == ("Gent", "44021", Region.OOST_VLAANDEREN)
    assert saved.website == "https://stad.gent" and saved.verified_at is not None


# ---- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize(("field", "value", "message"), [
    ("website", "javascript:alert(1)", "Enter a web address starting with http:// or https://."),
    ("website", "ftp://files.example", "Enter a web address starting with http:// or https://."),
    ("contact_email", "not-an-address", "Enter a valid e-mail address."),
    ("contact_phone", "12345", "Enter a valid phone number"),
    ("contact_phone", "call us maybe", "Enter a valid phone number"),
])
def test_bad_input_is_a_form_error_that_keeps_what_was_typed(app, world, field, value, message):
    client = signed_in(app, world.emails["suA"])
    response = client.post(SETTINGS, data=settings_form(**{field: value, "description": "Kept text here."}))
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in body
    assert "Kept text here." in body
    assert value.replace("'", "&#39;") in body or value in body
    assert org(app, world.ids["org_suA"]).description is None


def test_errors_are_translated(app, world):
    client = signed_in(app, world.emails["suA"], locale="nl")
    body = client.post(SETTINGS, data=settings_form(contact_phone="12345")).get_data(as_text=True)
    assert "Enter a valid phone number" not in body
    assert "telefoonnummer" in body


def test_an_over_long_description_is_refused_not_cut(app, world):
    from proeftuin.services.organisation_settings import DESCRIPTION_MAX

    client = signed_in(app, world.emails["suA"])
    text = "x" * (DESCRIPTION_MAX + 1)
    response = client.post(SETTINGS, data=settings_form(description=text))
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"Use at most {DESCRIPTION_MAX} characters" in body
    assert text in body  # kept, so the writer can shorten it
    assert f'data-counter="{DESCRIPTION_MAX}"' in body
    assert org(app, world.ids["org_suA"]).description is None
    # The service refuses it too, whatever a form lets through.
    from proeftuin.services import InvalidInput
    from proeftuin.services import organisation_settings as settings

    with app.test_request_context():
        admin = db.session.get(User, world.ids["suA"])
        with pytest.raises(InvalidInput):
            settings.update(admin, settings.SettingsData(name="Startup A", region="antwerpen", description=text))


# ---- the logo: SECURITY.md T17 --------------------------------------------------------------

def test_a_logo_is_re_encoded_stored_under_a_random_name_and_served_safely(app, world):
    client = signed_in(app, world.emails["suA"])
    response = upload(client, image_bytes("PNG", size=(1200, 600)))
    assert response.status_code == 302
    saved = org(app, world.ids["org_suA"])
    assert saved.logo_content_type == "image/png"
    assert logo_files(app) == [saved.logo_file]
    assert len(saved.logo_file) == 36  # 32 random hex digits and the extension
    assert not os.path.exists(os.path.join(app.static_folder, saved.logo_file))
    for viewer in (app.test_client(), client):
        served = viewer.get(f"/organisation/logo/{saved.id}")
        assert served.status_code == 200
        assert served.headers["Content-Type"] == "image/png"
        assert served.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in served.headers["Content-Security-Policy"]
        assert "default-src 'none'" in served.headers["Content-Security-Policy"]
        assert "public" in served.headers["Cache-Control"] and "max-age=" in served.headers["Cache-Control"]
        assert served.headers["Content-Disposition"].startswith("attachment")
        with Image.open(BytesIO(served.data)) as image:
            assert max(image.size) == 512 and image.format == "PNG"
    public = app.test_client().get(f"/startups/{world.slugs['suA']}").get_data(as_text=True)
    assert f"/organisation/logo/{saved.id}?v=" in public


def test_exif_is_stripped(app, world):
    exif = Image.Exif()
    exif[0x010F] = "SpyCam Inc."  # Make
    exif[0x0110] = "Model 007"  # Model
    exif[0x0112] = 1  # Orientation
    photo = image_bytes("JPEG", size=(800, 600), exif=exif.tobytes())
    assert b"SpyCam" in photo
    client = signed_in(app, world.emails["suA"])
    assert upload(client, photo, "photo.jpg", "image/jpeg").status_code == 302
    saved = org(app, world.ids["org_suA"])
    served = app.test_client().get(f"/organisation/logo/{saved.id}")
    assert served.headers["Content-Type"] == "image/jpeg"
    assert b"SpyCam" not in served.data and b"Exif" not in served.data
    with Image.open(BytesIO(served.data)) as image:
        assert dict(image.getexif()) == {}
        assert image.size == (512, 384)


HOSTILE = {
    "svg": (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
            b'<script>alert(document.cookie)</script></svg>', "logo.svg", "image/svg+xml"),
    "svg as png": (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "logo.png",
                   "image/png"),
    "html": (b"<!doctype html><html><script>alert(1)</script></html>", "logo.html", "text/html"),
    "html as png": (b"<html><body><script>alert(1)</script></body></html>", "logo.png", "image/png"),
    "pdf as png": (b"%PDF-1.4\n<html><script>alert(1)</script></html>\n%%EOF", "logo.png", "image/png"),
    "gif": (image_bytes("GIF"), "logo.gif", "image/gif"),
    "truncated png": (image_bytes("PNG", size=(300, 300))[:200], "logo.png", "image/png"),
    "bomb": (png_header_only(30000, 30000), "bomb.png", "image/png"),
    "too many pixels": (png_header_only(6000, 6000), "big.png", "image/png"),
}


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_what_is_not_a_png_jpeg_or_webp_image_is_refused(app, world, kind):
    data, filename, content_type = HOSTILE[kind]
    client = signed_in(app, world.emails["suA"])
    response = upload(client, data, filename, content_type)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert ("is not a PNG, JPEG or WebP image" in body) or ("too many pixels" in body)
    assert org(app, world.ids["org_suA"]).logo_file is None
    assert logo_files(app) == []


def test_a_webp_is_accepted(app, world):
    client = signed_in(app, world.emails["suA"])
    assert upload(client, image_bytes("WEBP"), "logo.webp", "image/webp").status_code == 302
    assert org(app, world.ids["org_suA"]).logo_content_type == "image/webp"


def test_an_upload_over_the_size_limit_is_refused_never_a_500(app, world):
    client = signed_in(app, world.emails["suA"])
    limit = app.config["LOGO_MAX_BYTES"]
    far_over = upload(client, os.urandom(limit + 200 * 1024))
    assert far_over.status_code == 413
    just_over = upload(client, b"\x89PNG\r\n\x1a\n" + os.urandom(limit - 7))
    assert just_over.status_code == 200
    assert "larger than 2 MB" in just_over.get_data(as_text=True)
    # A 1.5 MB image is accepted although the app-wide limit (MAX_CONTENT_LENGTH) is 1 MB.
    assert app.config["MAX_CONTENT_LENGTH"] < 1.5 * 1024 * 1024
    noisy = Image.frombytes("RGB", (800, 700), os.urandom(800 * 700 * 3))
    buffer = BytesIO()
    noisy.save(buffer, "PNG")
    assert 1024 * 1024 < len(buffer.getvalue()) < limit
    assert upload(client, buffer.getvalue()).status_code == 302
    assert org(app, world.ids["org_suA"]).logo_file is not None


@pytest.mark.parametrize("filename", ["../../etc/passwd", "../../../../tmp/evil.png", "..\\..\\evil.png",
                                      "/etc/passwd", "logo.png\x00.html"])
def test_a_hostile_filename_cannot_escape_the_logo_folder(app, world, filename, tmp_path):
    client = signed_in(app, world.emails["suA"])
    before = set(os.listdir(tmp_path))
    response = upload(client, image_bytes(), filename.replace("\x00", ""))
    assert response.status_code == 302
    saved = org(app, world.ids["org_suA"])
    assert logo_files(app) == [saved.logo_file]
    assert "/" not in saved.logo_file and ".." not in saved.logo_file and "passwd" not in saved.logo_file
    assert set(os.listdir(tmp_path)) - before <= {"instance"}
    assert not os.path.exists(os.path.join(app.instance_path, "evil.png"))


def test_replacing_deletes_the_old_file_and_remove_deletes_the_logo(app, world):
    client = signed_in(app, world.emails["suA"])
    upload(client, image_bytes())
    first = org(app, world.ids["org_suA"]).logo_file
    upload(client, image_bytes("JPEG"), "new.jpg", "image/jpeg")
    second = org(app, world.ids["org_suA"]).logo_file
    assert first != second and logo_files(app) == [second]
    old_url = f"/organisation/logo/{world.ids['org_suA']}"
    assert client.post(REMOVE).status_code == 302
    assert org(app, world.ids["org_suA"]).logo_file is None
    assert logo_files(app) == []
    assert app.test_client().get(old_url).status_code == 404
    with app.app_context():
        actions = list(db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.action.like("organisation.logo%")).order_by(AuditEvent.id)))
    assert actions == ["organisation.logo", "organisation.logo", "organisation.logo_removed"]


def test_an_unverified_organisations_logo_is_only_for_its_members_and_staff(app, world, team):
    client = signed_in(app, world.emails["suA"])
    upload(client, image_bytes())
    with app.app_context():
        db.session.get(Organisation, world.ids["org_suA"]).verified_at = None
        db.session.commit()
    url = f"/organisation/logo/{world.ids['org_suA']}"
    assert app.test_client().get(url).status_code == 404
    assert signed_in(app, world.emails["suB"]).get(url).status_code == 404
    assert signed_in(app, "su_viewer@example.org").get(url).status_code == 200
    assert signed_in(app, world.emails["facilitator"]).get(url).status_code == 200
    assert app.test_client().get("/organisation/logo/999999").status_code == 404


# ---- contacts only for introduced parties ---------------------------------------------------

def test_contact_details_are_shown_only_to_an_introduced_party(app, world, team):
    with app.app_context():
        startup = db.session.get(Organisation, world.ids["org_suA"])
        startup.contact_phone, startup.contact_email = "+3292101010", "sales@startup-a.example"
        startup.description = "Public description of Startup A."
        db.session.commit()
    profile_page = f"/startups/{world.slugs['suA']}"
    application_page = f"/applications/{world.ids['application']}"

    def sees(client, url) -> bool:
        body = client.get(url).get_data(as_text=True)
        assert "Public description of Startup A." in body
        return "+32 9 210 10 10" in body and "sales@startup-a.example" in body

    gent = signed_in(app, world.emails["muniA"])
    gent_viewer = signed_in(app, "gent_viewer@example.org")
    assert not sees(app.test_client(), profile_page)
    assert not sees(gent, profile_page) and not sees(gent, application_page)
    assert not sees(signed_in(app, world.emails["suB"]), profile_page)
    assert not sees(signed_in(app, world.emails["muniB"]), profile_page)
    # The support point introduces Gent and Startup A: an accepted suggestion.
    with app.app_context():
        db.session.add(MatchSuggestion(challenge_id=world.ids["published"], profile_id=world.ids["profile"],
                                       status=SuggestionStatus.ACCEPTED, score=2.0, rank=1, engine_id="test",
                                       challenge_hash="c", profile_hash="p"))
        db.session.commit()
    assert sees(gent, profile_page) and sees(gent, application_page)
    assert sees(gent_viewer, profile_page)
    assert not sees(app.test_client(), profile_page)
    assert not sees(signed_in(app, world.emails["muniB"]), profile_page)
    assert not sees(signed_in(app, world.emails["suB"]), profile_page)
    assert sees(signed_in(app, world.emails["facilitator"]), profile_page)
    assert sees(signed_in(app, "su_member@example.org"), profile_page)


def test_a_rejected_suggestion_introduces_no_one(app, world):
    from proeftuin.services.organisation_settings import contacts_visible

    with app.app_context():
        db.session.add(MatchSuggestion(challenge_id=world.ids["published"], profile_id=world.ids["profile"],
                                       status=SuggestionStatus.REJECTED, score=2.0, rank=1, engine_id="test",
                                       challenge_hash="c", profile_hash="p"))
        db.session.commit()
        gent_user = db.session.get(User, world.ids["muniA"])
        startup = db.session.get(Organisation, world.ids["org_suA"])
        assert not contacts_visible(gent_user, startup)
        assert not contacts_visible(None, startup)


def test_with_csrf_on_a_large_logo_upload_needs_and_accepts_a_token(make_app):
    """The raised body limit of the logo route is in place before the CSRF check reads the form."""
    import re

    from proeftuin.enums import OrgKind
    from tests.conftest import make_org

    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_user("founder@csrf.example", Role.STARTUP, make_org(OrgKind.STARTUP, "Csrf start-up"))
        db.session.commit()
    client = app.test_client()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/auth/login").get_data(as_text=True))
    client.post("/auth/login", data={"email": "founder@csrf.example", "password": "a long enough test passphrase",
                                     "csrf_token": token.group(1)})
    page = client.get(SETTINGS).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    noisy = Image.frombytes("RGB", (800, 700), os.urandom(800 * 700 * 3))
    buffer = BytesIO()
    noisy.save(buffer, "PNG")
    assert len(buffer.getvalue()) > app.config["MAX_CONTENT_LENGTH"]
    refused = client.post(LOGO, data={"logo": (BytesIO(buffer.getvalue()), "logo.png", "image/png")},
                          content_type="multipart/form-data")
    assert refused.status_code == 400
    accepted = client.post(LOGO, data={"logo": (BytesIO(buffer.getvalue()), "logo.png", "image/png"),
                                       "csrf_token": token}, content_type="multipart/form-data")
    assert accepted.status_code == 302
