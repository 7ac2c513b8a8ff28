"""The team journey in a real browser (Debian's chromium via Playwright), CSRF on (issue 10).

Gent's admin invites a colleague; the colleague accepts from the mail in the outbox, sees Gent's
draft, is made admin; the first admin leaves, and the colleague carries on as Gent's only admin.
"""
from __future__ import annotations

import sqlalchemy as sa

from tests.conftest import PASSWORD, link_in, outbox_messages
from tests.test_browser import live_server, page  # noqa: F401

COLLEAGUE = "collega@gent.example"
COLLEAGUE_PASSWORD = "een lange zin als wachtwoord"
DRAFT = "Deelfietsen aan elk station"


def seed(app) -> None:
    from proeftuin.enums import ChallengeStatus, OrgKind, Role
    from proeftuin.extensions import db
    from tests.conftest import make_challenge, make_org, make_user
    with app.app_context():
        gent = make_org(OrgKind.MUNICIPALITY, "Gent", "44021")
        make_user("gent@example.org", Role.MUNICIPALITY, gent)
        make_challenge(gent, DRAFT, ChallengeStatus.DRAFT)
        db.session.commit()


def log_in(page, base: str, email: str, password: str) -> None:  # noqa: F811
    page.goto(base + "/auth/login")
    page.get_by_label("E-mail address").fill(email)
    page.locator("#password").fill(password)
    page.get_by_role("button", name="Log in").click()


def log_out(page) -> None:  # noqa: F811
    """Log out, then ask for English again (logging out forgets the session's language)."""
    with page.expect_navigation():
        page.get_by_role("button", name="Log out").click()
    with page.expect_navigation():
        page.get_by_role("button", name="English").click()


def member(app, email: str):
    from proeftuin.extensions import db
    from proeftuin.models import User
    with app.app_context():
        found = db.session.scalar(sa.select(User).where(User.email == email))
        db.session.expunge_all()
        return found


def test_team_journey(live_server, page):  # noqa: F811
    app, base = live_server
    seed(app)
    page.goto(base + "/")
    page.get_by_role("button", name="English").click()

    # Gent's admin invites a colleague from the organisation page, reached from the account page.
    log_in(page, base, "gent@example.org", PASSWORD)
    page.goto(base + "/auth/account")
    page.get_by_role("link", name="Your organisation: members and invitations").click()
    page.get_by_label("E-mail address of your colleague").fill(COLLEAGUE)
    page.get_by_label("Role", exact=True).select_option("member")
    page.get_by_role("button", name="Send the invitation").click()
    assert f"The invitation is sent to {COLLEAGUE}." in page.inner_text("main")
    assert COLLEAGUE in page.locator("table").last.inner_text()
    log_out(page)

    # The colleague accepts from the mail: chooses a name and password, logs in, sees Gent's draft.
    mails = [m for m in outbox_messages(app) if f"To: {COLLEAGUE}" in m]
    assert len(mails) == 1
    page.goto(base + link_in(mails[0], "/organisation/invitations/"))
    page.get_by_label("Your name").fill("Charlotte De Smet")
    page.locator("#password").fill(COLLEAGUE_PASSWORD)
    page.get_by_label("Repeat the password").fill(COLLEAGUE_PASSWORD)
    page.get_by_role("button", name="Create my account and join").click()
    assert "/auth/login" in page.url
    page.get_by_label("E-mail address").fill(COLLEAGUE)
    page.locator("#password").fill(COLLEAGUE_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    assert page.url.endswith("/organisation/")
    assert "Charlotte De Smet" in page.inner_text("main")
    page.goto(base + "/challenges/mine")
    page.get_by_role("link", name=DRAFT).click()
    assert page.get_by_role("heading", name=DRAFT).is_visible()
    log_out(page)

    # The first admin makes the colleague admin, then leaves the organisation.
    log_in(page, base, "gent@example.org", PASSWORD)
    page.goto(base + "/organisation/")
    colleague = member(app, COLLEAGUE)
    row = page.locator(f"#member-{colleague.id}")
    row.locator("select").select_option("admin")
    with page.expect_navigation():
        row.get_by_role("button", name="Change the role").click()
    assert "Charlotte De Smet is now Organisation admin." in page.inner_text("main")
    with page.expect_navigation():
        page.get_by_role("button", name="Leave the organisation").click()
    # logged out, so the page is in the browser's Dutch again
    assert "/auth/login" in page.url and "Gent" in page.locator(".flash").inner_text()
    with page.expect_navigation():
        page.get_by_role("button", name="English").click()
    first = member(app, "gent@example.org")
    assert first.organisation_id is None and first.org_role is None

    # The colleague is now Gent's only admin; the first admin sees nothing of Gent any more.
    log_in(page, base, COLLEAGUE, COLLEAGUE_PASSWORD)
    page.goto(base + "/organisation/")
    members = page.locator("table").first.inner_text()
    assert "Charlotte De Smet" in members and "Organisation admin" in members and "gent@example.org" not in members
    log_out(page)
    log_in(page, base, "gent@example.org", PASSWORD)
    page.goto(base + "/challenges/mine")
    assert DRAFT not in page.inner_text("main")
