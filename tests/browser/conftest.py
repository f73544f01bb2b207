"""The browser suite: the app served the production way, driven by headless Chromium.

Once for the package: collectstatic into a temporary STATIC_ROOT with the manifest storage,
then gunicorn (gunicorn.conf.py, DJANGO_DEBUG=false) on the migrated test database, which gets
a staff user and a few leads first. Playwright drives the system's Chromium
(`BROWSER_CHROMIUM`, default /usr/bin/chromium), never a browser of its own. Without Chromium
the tests are skipped and listed loudly (tests/conftest.py); REQUIRE_BROWSER=1 (CI) makes that
an error. Screenshots, and the server's log, go to `BROWSER_SCREENSHOTS`
(default build/browser-screenshots/).
"""

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.management import call_command
from playwright.sync_api import sync_playwright

from leads.models import Lead
from tests.browser.recording import Recording
from tests.servers import ROOT, free_port, gunicorn, migrated_database_url

CHROMIUM = Path(os.environ.get("BROWSER_CHROMIUM") or "/usr/bin/chromium")
SKIP_REASON = (
    f"needs Chromium at {CHROMIUM}: apt-get install chromium chromium-driver "
    "(or set BROWSER_CHROMIUM to its path)"
)
SCREENSHOTS = Path(os.environ.get("BROWSER_SCREENSHOTS") or ROOT / "build" / "browser-screenshots")

STAFF_USERNAME = "browser-staff"
STAFF_PASSWORD = "browser staff password, test only"
# Leads the tests find by e-mail; each test changes only its own.
REFERRAL_EMAILS = ["referral.one@browser.example", "referral.two@browser.example"]
ACTION_EMAIL = "action.target@browser.example"


def chromium_present() -> bool:
    return CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)


def pytest_collection_modifyitems(config, items):
    browser_items = [item for item in items if item.get_closest_marker("browser") is not None]
    if not browser_items or chromium_present():
        return
    if os.environ.get("REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(f"REQUIRE_BROWSER=1 but no Chromium at {CHROMIUM}.")
    for item in browser_items:
        item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


def pytest_terminal_summary(terminalreporter):
    ran = [
        report
        for key in ("passed", "failed", "error")
        for report in terminalreporter.stats.get(key, [])
        if report.nodeid.startswith("tests/browser/") and report.when == "call"
    ]
    if ran:
        terminalreporter.write_sep("-", f"browser screenshots and server log: {SCREENSHOTS}")


CALL_REPORT = pytest.StashKey()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.stash[CALL_REPORT] = report
    return report


@dataclass(frozen=True)
class App:
    url: str
    log: Path


def seed() -> None:
    """The staff user and the leads the tests use, committed so the server sees them."""
    from django.contrib.auth import get_user_model

    # Hashed with the production hasher: the suite's own fixtures switch to a fast one that
    # the server does not accept.
    hasher = PBKDF2PasswordHasher()
    get_user_model().objects.create(
        username=STAFF_USERNAME,
        email="staff@browser.example",
        is_staff=True,
        is_superuser=True,
        password=hasher.encode(STAFF_PASSWORD, hasher.salt()),
    )
    Lead.objects.bulk_create(
        [
            *(
                Lead(first_name="Referral", last_name=f"Lead {n}", email=email, source="referral")
                for n, email in enumerate(REFERRAL_EMAILS, 1)
            ),
            Lead(first_name="Event", last_name="Lead", email="event@lead.example", source="event"),
            Lead(first_name="Action", last_name="Target", email=ACTION_EMAIL, source="web"),
        ]
    )


@pytest.fixture(scope="package")
def app(django_db_setup, django_db_blocker, collected_static):
    """gunicorn serving collected static files with production settings, on the test database.

    Package-scoped, not session-scoped: the data it commits is flushed as soon as the browser
    tests are done, before the rest of the suite runs on that database."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    log = SCREENSHOTS / "server.log"
    log.write_bytes(b"")
    env = collected_static[1] | {"DJANGO_DEBUG": "false"}
    try:
        with django_db_blocker.unblock():
            seed()
            env["DATABASE_URL"] = migrated_database_url()
        port = free_port()
        with gunicorn(env, port, output=log):
            yield App(url=f"http://127.0.0.1:{port}", log=log)
    finally:
        with django_db_blocker.unblock():
            call_command("flush", interactive=False, verbosity=0)


def launch(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)


# A browser per test, not per package: Playwright's sync API keeps an event loop running in this
# thread while it is open, and Django then refuses the database calls that pytest-django makes
# around each test (and this package's seeding and flush).
@pytest.fixture
def browser(app):
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="package")
def staff_state(app):
    """Cookies of a staff session, logged in once through the admin's login form."""
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(base_url=app.url)
            page.goto("/admin/login/?next=/admin/")
            page.fill("#id_username", STAFF_USERNAME)
            page.fill("#id_password", STAFF_PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_url(f"{app.url}/admin/")
            return page.context.storage_state()
        finally:
            browser.close()


def recording(browser, app, request, storage_state=None):
    # A common laptop screen: the admin's changelist must fit it without scrolling sideways.
    context = browser.new_context(
        base_url=app.url, storage_state=storage_state, viewport={"width": 1366, "height": 768}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    prefix = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
    record = Recording(page, SCREENSHOTS, prefix)
    try:
        yield record
        report = request.node.stash.get(CALL_REPORT, None)
        if report is not None and report.failed and page.url != "about:blank":
            try:
                record.shot("at-failure")
            except Exception as error:  # the page may be what failed
                print(f"no screenshot at failure: {error}")
        elif report is not None and report.passed:
            assert record.checked, "a browser test must end with assert_clean()"
    finally:
        context.close()


@pytest.fixture
def anonymous(browser, app, request):
    """A fresh browser (no cookies) recording what it sees."""
    yield from recording(browser, app, request)


@pytest.fixture
def staff(browser, app, staff_state, request):
    """A browser logged in to the admin as a superuser, recording what it sees."""
    yield from recording(browser, app, request, storage_state=staff_state)
