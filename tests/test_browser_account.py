"""A person downloads their data and deletes their account, in a real browser (CSRF on)."""
from __future__ import annotations

import json

from tests.conftest import PASSWORD
from tests.test_browser import live_server, page  # noqa: F401


def seed(app):
    from proeftuin.enums import OrgKind, Role
    from proeftuin.extensions import db
    from proeftuin.models import Notification
    from tests.conftest import make_org, make_profile, make_user

    with app.app_context():
        org = make_org(OrgKind.STARTUP, "Telbedrijf")
        user = make_user("ann@telbedrijf.example", Role.STARTUP, org)
        user.name = "Ann Telbedrijf"
        make_profile(org, "Wij tellen fietsers", "Tellingen aan de schoolpoort met kleine sensoren.")
        db.session.add(Notification(user_id=user.id, kind="test", text="Welkom bij Proeftuin"))
        db.session.commit()


def test_a_person_exports_then_deletes_the_account(live_server, page):  # noqa: F811
    app, base = live_server
    seed(app)
    page.goto(base + "/auth/login")
    page.get_by_role("button", name="English").click()
    page.get_by_label("E-mail address").fill("ann@telbedrijf.example")
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Ann Telbedrijf").click()
    assert "/auth/account" in page.url

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download my data").click()
    download = download_info.value
    assert download.suggested_filename.startswith("proeftuin-export-")
    with open(download.path(), encoding="utf-8") as handle:
        data = json.load(handle)
    assert data["account"]["email"] == "ann@telbedrijf.example"
    assert data["account"]["name"] == "Ann Telbedrijf"
    assert data["membership"]["name"] == "Telbedrijf"
    assert [n["text"] for n in data["notifications"]] == ["Welkom bij Proeftuin"]

    page.get_by_role("link", name="Delete my account").click()
    assert "You are the only member of Telbedrijf" in page.inner_text("main")
    page.get_by_role("button", name="Delete my account for good").click()
    # Without the password and the tick nothing happens.
    assert "/auth/account/delete" in page.url
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_label("I understand that this cannot be undone").check()
    page.get_by_role("button", name="Delete my account for good").click()
    assert "Your account is deleted" in page.inner_text("main")
    assert page.get_by_role("link", name="Log in").count() == 1

    page.get_by_role("link", name="Log in").click()
    page.get_by_label("E-mail address").fill("ann@telbedrijf.example")
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    assert "The e-mail address or the password is not correct." in page.inner_text("main")
    assert "/auth/login" in page.url
