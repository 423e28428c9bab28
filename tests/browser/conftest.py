"""Pages in a real browser: Playwright driving Debian's Chromium, headless, against the running stack."""

import os
from pathlib import Path

import pytest

# Playwright's sync API keeps an event loop running in the test thread, which makes Django refuse ORM calls
# there ("async context"); the tests are plain synchronous code, so that guard does not apply.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# `./run screenshots` sets SCREENSHOTS_DIR to docs/screenshots/: the screenshots there are these tests' own.
SCREENSHOTS = Path(
    os.environ.get("SCREENSHOTS_DIR")
    or Path(__file__).resolve().parent.parent.parent / "test-artifacts" / "screenshots"
).resolve()
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page_for(chromium, live):
    """page_for(host, device=PHONE) → a fresh page (own cookies) and the base URL of that host."""
    contexts = []

    def make(host: str, device: dict | None = None):
        context = chromium.new_context(**(device or PHONE))
        context.set_default_timeout(10_000)
        contexts.append(context)
        port = live.base_url.rsplit(":", 1)[1]
        return context.new_page(), f"http://{host}:{port}"

    yield make
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def fits_the_screen(page) -> bool:
    """No sideways scrolling: what a phone user notices first. Measured against the screen's width, not the
    window's: a phone browser widens its layout to fit a page that is too wide (and zooms out), so the window
    grows with the page and would always "fit"."""
    # Measured once the stylesheets are in: on a busy machine an unstyled page (a long secret not yet wrapped)
    # is briefly wider than the screen, which no user is shown for long enough to scroll.
    page.wait_for_load_state("load")
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
