"""Page tests in a real browser (Debian's chromium driven by Playwright), CSRF on."""
from __future__ import annotations

import os
import threading

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture
def live_server(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'live.sqlite'}", WTF_CSRF_ENABLED=True)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def page():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(locale="nl-BE")
        new_page = context.new_page()
        new_page.set_default_timeout(10_000)
        yield new_page
        browser.close()


def seed(app):
    from proeftuin.enums import ChallengeStatus, OrgKind, Role
    from proeftuin.extensions import db
    from proeftuin.models import Application
    from tests.conftest import make_challenge, make_org, make_user
    with app.app_context():
        gent = make_org(OrgKind.MUNICIPALITY, "Gent", "44021")
        make_user("gent@example.org", Role.MUNICIPALITY, gent)
        challenge = make_challenge(gent, "Slimme schoolstraten", ChallengeStatus.PUBLISHED)
        startup = make_org(OrgKind.STARTUP, "Telbedrijf")
        db.session.add(Application(challenge_id=challenge.id, organisation_id=startup.id,
                                   proposal="Wij tellen fietsers en voetgangers aan de schoolpoort."))
        db.session.commit()


def test_startup_journey_in_english(live_server, page):
    app, base = live_server
    seed(app)
    page.goto(base + "/")
    assert "Nederlands" in page.inner_text("header")
    page.get_by_role("button", name="English").click()
    page.get_by_role("button", name="Register").click()
    page.get_by_label("a start-up").check()
    page.get_by_label("Company name").fill("Counting Co")
    page.get_by_label("Where is the company based?").select_option("brussels")
    page.get_by_label("Your name").fill("Ann")
    page.get_by_label("E-mail address").fill("ann@counting.example")
    page.locator("#password").fill("short")
    page.get_by_label("Repeat the password").fill("short")
    page.get_by_role("button", name="Create the account").click()
    # The error is shown and what was typed stays.
    assert page.get_by_label("Company name").input_value() == "Counting Co"
    assert page.locator("small.error").count() >= 1
    page.locator("#password").fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Create the account").click()
    # Registration answers the same for new and known addresses, so it does not sign in: log in next.
    assert "/auth/login" in page.url
    page.get_by_label("E-mail address").fill("ann@counting.example")
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    assert page.url.endswith("/startups/profile")

    page.get_by_label("Tagline").fill("Radar counters for school streets")
    page.get_by_label("What can you do?").fill("We count pedestrians, cyclists and cars near schools and report.")
    page.get_by_label("Mobility").check()
    page.get_by_role("button", name="Save the profile").click()
    assert page.get_by_role("heading", name="Counting Co").is_visible()

    page.get_by_role("link", name="Challenges").first.click()
    page.get_by_role("link", name="Slimme schoolstraten").click()
    page.get_by_role("button", name="Apply with a proposal").click()
    page.get_by_label("Your proposal").fill("A three-month pilot with two radar counters at the school gate.")
    page.get_by_role("button", name="Submit the application").click()
    assert "Your application is submitted." in page.inner_text("main")
    page.get_by_role("link", name="Our applications").click()
    assert "Slimme schoolstraten" in page.inner_text("main")


def test_municipality_journey_in_dutch(live_server, page):
    app, base = live_server
    seed(app)
    page.goto(base + "/auth/login")
    page.get_by_label("E-mailadres").fill("gent@example.org")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Aanmelden").click()
    page.goto(base + "/challenges/new")
    page.get_by_label("Titel").fill("Minder zwerfvuil in parken")
    page.get_by_label("Samenvatting").fill("Na zonnige weekends liggen onze parken vol afval.")
    page.get_by_label("Het probleem").fill(
        "Elke maandag ruimen twee ploegen samen twaalf uur zwerfvuil op in drie parken."
    )
    page.get_by_label("Gewenst resultaat").fill("De helft minder zwerfvuil tegen eind volgend jaar.")
    page.get_by_label("Circulaire economie").check()
    page.get_by_role("button", name="Opslaan").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Publiceren").click()
    assert "Open" in page.inner_text("main")
    page.goto(base + "/challenges/?q=zwerfvuil")
    assert page.get_by_role("link", name="Minder zwerfvuil in parken").is_visible()

    # Decide on an application with a message.
    page.goto(base + "/challenges/mine")
    page.get_by_role("row", name="Slimme schoolstraten").get_by_role("link").last.click()
    page.get_by_role("link").filter(has_text="Lezen").first.click()
    page.get_by_label("Bericht aan de start-up").fill("We nodigen jullie graag uit.")
    with page.expect_navigation():
        page.get_by_role("button", name="Selecteren", exact=True).click()
    with app.app_context():
        from proeftuin.enums import ApplicationStatus
        from proeftuin.extensions import db
        from proeftuin.models import Application
        application = db.session.scalars(db.select(Application)).one()
        assert application.status == ApplicationStatus.SELECTED
        assert application.decision_message == "We nodigen jullie graag uit."


def test_skip_link_is_the_first_stop_for_keyboard_users(live_server, page):
    _, base = live_server
    page.goto(base + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#main"
    assert page.locator("main#main").count() == 1 and page.locator("nav").count() >= 1
