"""Take the README screenshots from a running `make run` (python docs/screenshot.py [base-url])."""
from __future__ import annotations

import sys

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
PASSWORD = "demo-proeftuin-2026"


def log_in(page, email: str) -> None:
    page.goto(BASE + "/auth/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("main button[type=submit]").click()


with sync_playwright() as playwright:
    browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="nl-BE")
    page.goto(BASE + "/challenges/")
    page.screenshot(path="docs/challenges.png")

    page = browser.new_page(viewport={"width": 1280, "height": 1100}, locale="nl-BE")
    log_in(page, "gemeente@demo.proeftuin.be")
    page.goto(BASE + "/challenges/mine")
    page.locator("a", has_text="pleinen").first.click()
    page.goto(page.url + "/suggestions")
    page.locator("details.explanation").first.evaluate("d => d.open = true")
    page.screenshot(path="docs/suggestions.png")

    page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="en-GB")
    page.goto(BASE + "/")
    page.get_by_role("button", name="English").click()
    log_in(page, "facilitator@demo.proeftuin.be")
    page.goto(BASE + "/review/?band=top")
    page.screenshot(path="docs/review.png")
    browser.close()
