"""Shared fixtures, the PostgreSQL policy (skip PostgreSQL-only tests loudly, or refuse), and
the `slow` marker that `make test-fast` leaves out."""

import inspect
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from health.checks import probe_connections
from tests import servers
from tests.factories import LeadFactory, UserFactory
from tests.servers import ROOT, server_env

TESTS = Path(__file__).resolve().parent
# Every test in these directories is slow: gunicorn under faults and load and fuzzers
# (reliability), Chromium (browser), promtool, amtool and a live Prometheus (monitoring),
# gunicorn and Kubernetes schemas (deploy).
SLOW_DIRECTORIES = ("browser", "deploy", "monitoring", "reliability")
# Elsewhere a test is slow when it, a helper it calls or a fixture it uses reaches one of
# these: a child process (a settings load, manage.py, promtool, gunicorn) or a socket server.
STARTS_PROCESSES = (subprocess, servers.gunicorn, servers.serving)
# Slow without starting anything: node id prefixes, each with why.
SLOW_TESTS = (
    # waits out the checks' timeouts against three listeners that never answer (2 s)
    "tests/observability/test_checks.py::TestCommand::"
    "test_bounded_in_time_with_every_endpoint_unreachable",
)


def on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith(".postgresql")


def pytest_configure(config):
    if os.environ.get("REQUIRE_POSTGRES") == "1" and not on_postgres():
        raise pytest.UsageError(
            "REQUIRE_POSTGRES=1 but the tests would run on SQLite: set DATABASE_URL to PostgreSQL."
        )


def _code_names(code: types.CodeType):
    """The global and attribute names `code` uses, with its nested functions' and
    comprehensions'."""
    yield from code.co_names
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from _code_names(constant)


def _process_starter(function, cls=None, seen=None) -> str | None:
    """How `function` reaches one of STARTS_PROCESSES ("helper -> subprocess"), by naming it
    itself or through the suite's own functions it names (helpers, context managers,
    `module.helper`, `self.helper`); None when it does not."""
    seen = set() if seen is None else seen
    inner = getattr(getattr(function, "hypothesis", None), "inner_test", None)
    function = inspect.unwrap(getattr(inner or function, "__func__", inner or function))
    code = getattr(function, "__code__", None)
    if code is None or code in seen:
        return None
    seen.add(code)
    names = set(_code_names(code))
    modules = [function.__globals__.get(name) for name in names]
    modules = [module for module in modules if isinstance(module, types.ModuleType)]
    scopes = [function.__globals__, *map(vars, modules), *([vars(cls)] if cls else [])]
    for name in sorted(names):
        for scope in scopes:
            value = scope.get(name)
            if value is None:
                continue
            if any(value is starter for starter in STARTS_PROCESSES):
                return name
            value = getattr(value, "__func__", value)  # a method named through its class
            if inspect.isfunction(value) and value.__module__.startswith("tests."):
                via = _process_starter(value, cls, seen)
                if via:
                    return f"{name} -> {via}"
    return None


def slow_reason(item: pytest.Item) -> str | None:
    """Why `item` is slow (see SLOW_DIRECTORIES, STARTS_PROCESSES and SLOW_TESTS), or None."""
    if Path(item.path).relative_to(TESTS).parts[0] in SLOW_DIRECTORIES:
        return "in a slow directory"
    if item.nodeid.startswith(SLOW_TESTS):
        return "listed in SLOW_TESTS"
    function = getattr(item, "function", None)
    if function is None:
        return None
    fixtures = [definitions[-1].func for definitions in item._fixtureinfo.name2fixturedefs.values()]
    for candidate in [function, *fixtures]:
        if getattr(candidate, "__module__", "").startswith("tests."):
            via = _process_starter(candidate, getattr(item, "cls", None))
            if via:
                return f"{candidate.__name__} -> {via}"
    return None


def pytest_collection_modifyitems(config, items):
    for item in items:
        reason = slow_reason(item)
        if reason:
            item.add_marker(pytest.mark.slow(reason=reason))
    if on_postgres():
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    for item in items:
        if item.get_closest_marker("postgres") is not None:
            item.add_marker(skip)


def _report_skips(terminalreporter, reason: str, headline: str) -> None:
    """List, in red, the tests skipped for `reason`, so a missing peer is never quiet."""
    skipped = [
        report.nodeid
        for report in terminalreporter.stats.get("skipped", [])
        if reason in str(report.longrepr)
    ]
    if skipped:
        terminalreporter.write_sep("!", f"{len(skipped)} {headline}", red=True)
        for nodeid in skipped:
            terminalreporter.write_line(f"  skipped: {nodeid}", red=True)


def pytest_terminal_summary(terminalreporter):
    # Browser tests without Chromium (tests/browser/conftest.py), as loudly as PostgreSQL's.
    _report_skips(terminalreporter, "needs Chromium", "browser tests SKIPPED (no Chromium)")
    if not on_postgres():
        _report_skips(terminalreporter, "needs PostgreSQL", "PostgreSQL tests SKIPPED (SQLite run)")


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def staff_user(db):
    return UserFactory(username="staff", is_staff=True, is_superuser=True)


@pytest.fixture
def token(user):
    return Token.objects.create(user=user)


@pytest.fixture
def anon_client():
    return APIClient()


@pytest.fixture
def api_client(token):
    """An API client authenticated with a DRF token, as REST clients call the API."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def lead_factory(db):
    return LeadFactory


@pytest.fixture
def lead(lead_factory):
    return lead_factory()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness protects stored passwords; it only slows tests down.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _static_files_found_on_request(settings):
    # WhiteNoise indexes every static file (about 175, through every app's finders) when its
    # middleware is built, once per worker in production but once per test client here: a
    # quarter of the fast suite's time. Autorefresh finds a file when it is asked for instead.
    # Static files as production serves them (indexed, hashed, compressed, immutable) are
    # tested through gunicorn: tests/pages/test_static_files.py, tests/browser.
    settings.WHITENOISE_AUTOREFRESH = True


@pytest.fixture(autouse=True)
def _plain_http(settings):
    # The suite runs with production settings (no DEBUG), which redirect plain HTTP to HTTPS;
    # the test client speaks plain HTTP. tests/security turns the redirect back on to prove it.
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture(autouse=True)
def _close_probe_connections():
    # The health probes keep one idle connection per process; an open one would block
    # dropping the test database at the end of the session.
    yield
    probe_connections.close_all()


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory):
    """STATIC_ROOT after the image's collectstatic (manifest storage), and the environment that
    serves it: the variables the Dockerfile sets."""
    root = tmp_path_factory.mktemp("staticfiles")
    env = server_env(DJANGO_STATIC_MANIFEST="true", DJANGO_STATIC_ROOT=str(root))
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert collected.returncode == 0, collected.stdout + collected.stderr
    return root, env


@pytest.fixture(scope="session")
def django_db_modify_db_settings_xdist_suffix(request):
    """pytest-django's, which only knows SQLite by Django's own engine name and so gives the
    in-memory test database of django-prometheus' SQLite engine a file name per xdist worker
    (`make test-fast` runs workers): each worker's PostgreSQL test database gets its suffix,
    SQLite's stays in memory, one per process."""
    worker = getattr(request.config, "workerinput", {}).get("workerid")
    database = settings.DATABASES["default"]
    if worker and not database["ENGINE"].endswith(".sqlite3"):
        test = database.setdefault("TEST", {})
        test["NAME"] = f"{test.get('NAME') or 'test_' + database['NAME']}_{worker}"
