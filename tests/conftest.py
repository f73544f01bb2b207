"""Shared fixtures, and the PostgreSQL policy: skip PostgreSQL-only tests loudly, or refuse."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from health.checks import probe_connections
from tests.factories import LeadFactory, UserFactory
from tests.servers import ROOT, server_env


def on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith(".postgresql")


def pytest_configure(config):
    if os.environ.get("REQUIRE_POSTGRES") == "1" and not on_postgres():
        raise pytest.UsageError(
            "REQUIRE_POSTGRES=1 but the tests would run on SQLite: set DATABASE_URL to PostgreSQL."
        )


def pytest_collection_modifyitems(config, items):
    if on_postgres():
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://...")
    for item in items:
        if item.get_closest_marker("postgres") is not None:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter):
    # Browser tests without Chromium (tests/browser/conftest.py), as loudly as PostgreSQL's.
    no_browser = [
        report.nodeid
        for report in terminalreporter.stats.get("skipped", [])
        if "needs Chromium" in str(report.longrepr)
    ]
    if no_browser:
        terminalreporter.write_sep(
            "!", f"{len(no_browser)} browser tests SKIPPED (no Chromium)", red=True
        )
        for nodeid in no_browser:
            terminalreporter.write_line(f"  skipped: {nodeid}", red=True)
    if on_postgres():
        return
    skipped = [
        report.nodeid
        for report in terminalreporter.stats.get("skipped", [])
        if "needs PostgreSQL" in str(report.longrepr)
    ]
    if skipped:
        terminalreporter.write_sep(
            "!", f"{len(skipped)} PostgreSQL tests SKIPPED (SQLite run)", red=True
        )
        for nodeid in skipped:
            terminalreporter.write_line(f"  skipped: {nodeid}", red=True)


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
