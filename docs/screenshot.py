"""Take the README screenshots from a running `make run` (python docs/screenshot.py [base-url])."""
from __future__ import annotations

import sys

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

with sync_playwright() as playwright:
    browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="nl-BE")
    page.goto(BASE + "/challenges/")
    page.screenshot(path="docs/challenges.png")
    browser.close()
