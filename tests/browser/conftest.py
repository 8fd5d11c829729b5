"""Browser tests of the finance console: Playwright driving Debian's Chromium (/usr/bin/chromium,
installed by scripts/install_deps.sh; Playwright never downloads a browser) against a live server.

One Chromium for the browser tests of a session and one live server (per xdist worker: every
browser test is in one xdist group, so with `--dist loadgroup`, as `make test` runs, they all
run on one worker, one after the other), a new browser context (cookies, storage) per test.

Each test has a database of its own (`browser_db`), a copy of the migrated template made in
~0.3 s, which the test and the live server share and which is dropped afterwards (in the
background). The test's rows are committed, as a live server needs, yet the worker's own test
database is never flushed: the rows migrations seed (catalog, chart, dunning policy, tax rates,
decline codes, staff groups, schedules, alert rules) stay for the tests that follow.
Screenshots go to docs/console/<name>.png with UPDATE_SCREENSHOTS=1, else to a temporary folder.
"""

import itertools
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
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
MAX_SHOT_HEIGHT = 1800
_numbers = itertools.count(1)


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.fixture(scope="session")
def _drops():
    """Dropping a database waits for a checkpoint (seconds on a busy server): done in the
    background while the next test runs, all finished before the session ends."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="browser-db-drop")
    yield pool
    pool.shutdown(wait=True)


@pytest.fixture
def browser_db(django_db_setup, django_db_clone, django_db_blocker, _drops):
    """A fresh copy of the migrated database for this test and the live server; ORM calls in
    the test are committed at once (autocommit), as the live server's requests are."""
    from django.db import connections

    create, drop = django_db_clone
    settings_dict = connections["default"].settings_dict  # the dict new connections are made of
    home = settings_dict["NAME"]
    name = f"{home}_b{next(_numbers)}"
    with django_db_blocker.unblock():
        connections.close_all()
        create(name)
        settings_dict["NAME"] = name
        try:
            yield name
        finally:
            connections.close_all()
            settings_dict["NAME"] = home
    _drops.submit(drop, name)


@pytest.fixture(scope="session")
def console_server(django_db_setup):
    """The live server (pytest-django's LiveServer: Django's LiveServerThread with static
    files), started once; its request threads connect to whatever `browser_db` points at."""
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer("localhost:0")
    yield server
    server.stop()


class _Chromium:
    """One Playwright driver and one Chromium for a run of consecutive browser tests (with
    `--dist loadgroup` and without xdist: all of them), closed after the last one.

    Playwright's sync API keeps an event loop running in this thread while it is started, and
    Django refuses ORM calls made with a running loop ("async context"). The browser tests lift
    that check for themselves (`browser` sets DJANGO_ALLOW_ASYNC_UNSAFE for the test); closing
    the driver after them keeps the worker's other tests, and the subprocesses they start
    (`check --deploy` refuses the variable), as they would be without a browser."""

    def __init__(self):
        self.playwright = self.browser = self.tmp = None

    def get(self):
        if self.browser is None:
            if not os.access(CHROMIUM, os.X_OK):
                pytest.fail(f"{CHROMIUM} is missing: scripts/install_deps.sh installs it")
            from playwright.sync_api import sync_playwright

            # Playwright gives every launch a new empty profile (--user-data-dir) in the
            # driver's TMPDIR; it refuses one in `args`. A private TMPDIR keeps it ours.
            self.tmp = tempfile.mkdtemp(prefix="lvb-chromium-")
            self.playwright = sync_playwright().start()
            self.browser = self.playwright.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                env={**os.environ, "TMPDIR": self.tmp},
            )
        return self.browser

    def stop(self):
        if self.playwright is None:
            return
        try:
            self.browser.close()
        finally:
            self.playwright.stop()
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.playwright = self.browser = self.tmp = None


_chromium = _Chromium()


def _is_browser_test(item) -> bool:
    return item is not None and Path(__file__).parent in Path(item.fspath).parents


@pytest.hookimpl(trylast=True)  # after the test's fixtures (its browser context) are finalized
def pytest_runtest_teardown(item, nextitem):
    if not _is_browser_test(nextitem):
        _chromium.stop()


@pytest.fixture
def browser(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    return _chromium.get()


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
def console_url(console_server, browser_db):
    """The live server's admin root, e.g. http://localhost:41234/admin/."""
    return f"{console_server.url}/admin/"


@pytest.fixture
def staff_user(browser_db):
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


@pytest.fixture
def sign_in(console_server, browser_db):
    """`sign_in(page, user)`: the user's session cookie put straight into the page's context
    (Django's test client `force_login`), for the tests about something else than signing in:
    no login page to load and submit each time."""
    from django.conf import settings
    from django.test import Client

    def _sign_in(page, user) -> None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies(
            [{"name": cookie.key, "value": cookie.value, "url": console_server.url}]
        )

    return _sign_in


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
        # The whole page down to MAX_SHOT_HEIGHT, taken in a viewport that tall (a full-page
        # capture of a 900 px viewport leaves unfold's sidebar and sticky bars mid-page).
        viewport = page.viewport_size
        height = min(page.evaluate("document.documentElement.scrollHeight"), MAX_SHOT_HEIGHT)
        page.set_viewport_size({"width": viewport["width"], "height": max(height, 900)})
        try:
            page.screenshot(path=str(path))
        finally:
            page.set_viewport_size(viewport)
        return path

    return _shot
