"""The project's settings plus a route that fails on purpose (tests/observability/urls.py), so
that a server process under test has errors to report to Sentry."""

from intelliflow.settings import *  # noqa: F403 - the real settings, one route more

ROOT_URLCONF = "tests.observability.urls"
