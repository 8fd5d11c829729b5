"""Browser tests of the finance console: Playwright driving Debian's Chromium (/usr/bin/chromium,
installed by scripts/install_deps.sh; Playwright never downloads a browser) against pytest-django's
live server.

One browser per test session (per xdist worker; every browser test is in one xdist group, so
with `--dist loadgroup` they all run on one worker), a new context (cookies, storage) per test.
Screenshots go to docs/console/<name>.png with UPDATE_SCREENSHOTS=1, else to a temporary folder.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent.parent
SCREENSHOTS = ROOT / "docs" / "console"
# The flags this machine needs: no sandbox as root, no GPU, and no background connections (the
# network is closed; without these Chromium keeps retrying Google's hosts).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "console-pass-123"


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    # Opt-in for now (BROWSER_TESTS=1): the live server needs a transactional test, whose flush
    # empties the rows migrations seed (default dunning policy, tax rates) for the tests that
    # follow on the same worker; the root conftest restores only the catalog and the chart.
    run = os.environ.get("BROWSER_TESTS") == "1"
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.xdist_group("browser"))
            if not run:
                item.add_marker(pytest.mark.skip(reason="browser tests run with BROWSER_TESTS=1"))


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: scripts/install_deps.sh installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    # Playwright gives every launch a new empty profile (--user-data-dir) in the driver's TMPDIR;
    # it refuses one in `args`. A private TMPDIR keeps it, and its removal, ours.
    tmp = tempfile.mkdtemp(prefix="lvb-chromium-")
    # Playwright's sync API keeps an event loop running in this thread while it is started, and
    # Django refuses ORM calls made with a running loop ("async context"): the tests' own calls
    # between browser steps (and the rest of this worker's tests) are synchronous, so the check
    # is lifted for as long as the browser runs.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            env={**os.environ, "TMPDIR": tmp},
        )
        try:
            yield browser
        finally:
            browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def console_url(live_server, transactional_db):
    """The live server's admin root, e.g. http://localhost:41234/admin/."""
    return f"{live_server.url}/admin/"


@pytest.fixture
def staff_user(transactional_db):
    """A finance superuser (username `finance`, password PASSWORD)."""
    from django.contrib.auth.models import User

    return User.objects.create_superuser("finance", "finance@leanvibe.example", PASSWORD)


@pytest.fixture
def login(console_url):
    """`login(page, username, password)`: signs in through the admin login form."""

    def _login(page, username: str, password: str = PASSWORD) -> None:
        page.goto(f"{console_url}login/?next=/admin/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit], input[type=submit]")
        page.wait_for_url(f"{console_url}")

    return _login


@pytest.fixture(scope="session")
def _screenshot_dir():
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        yield SCREENSHOTS
        return
    tmp = Path(tempfile.mkdtemp(prefix="lvb-screenshots-"))
    yield tmp
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def screenshot(_screenshot_dir):
    """`screenshot(page, name)` -> the PNG's path (docs/console/<name>.png when
    UPDATE_SCREENSHOTS=1)."""

    def _shot(page, name: str) -> Path:
        path = _screenshot_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot
