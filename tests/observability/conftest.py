"""Real SDKs, captured locally: OTel's in-memory exporter, Sentry with a capturing transport,
and the project's own JSON log formatter writing to a buffer."""

import io
import json
import logging

import pytest
import sentry_sdk
from django.conf import settings
from django.db import connections
from django.test import override_settings
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from rest_framework.test import APIClient
from sentry_sdk.transport import Transport

from observability import errors, tracing
from observability.logging import ContextFilter, JsonFormatter

_exporter = InMemorySpanExporter()


@pytest.fixture(scope="session")
def _tracing(django_db_setup):
    # The test settings were loaded with tracing off: list the tracing middleware as the
    # settings do with OTEL_ENABLED (first), for the rest of the session, as instrument() used
    # to by writing settings itself. The test's doing, not the product's.
    # Once: tests/reliability shares this fixture, and a second session instance would list the
    # middleware twice (its inner copy ends the request's span before the view runs).
    traced = None
    if settings.OTEL_DJANGO_MIDDLEWARE not in settings.MIDDLEWARE:
        traced = override_settings(
            MIDDLEWARE=[settings.OTEL_DJANGO_MIDDLEWARE, *settings.MIDDLEWARE]
        )
        traced.enable()
    # One provider per process, as in production; Simple (synchronous) so tests need not wait.
    tracing.instrument()
    tracing.configure_tracing(exporter=_exporter, processor_class=SimpleSpanProcessor)
    # In production instrument() runs before the first connection; here the test database
    # exists already, so drop its connections (and pool) to get instrumented ones.
    for connection in connections.all():
        connection.close()
        if hasattr(connection, "close_pool"):
            connection.close_pool()
    yield _exporter
    if traced is not None:
        traced.disable()


@pytest.fixture
def spans(_tracing):
    """Spans as exported (after scrubbing); cleared before each test."""
    _tracing.clear()
    return _tracing


class CapturingTransport(Transport):
    def __init__(self, options=None):
        super().__init__(options)
        self.envelopes = []

    def capture_envelope(self, envelope):
        self.envelopes.append(envelope)

    def events(self) -> list[dict]:
        return [e.get_event() for e in self.envelopes if e.get_event() is not None]


@pytest.fixture
def sentry_transport():
    transport = CapturingTransport()
    errors.configure_error_reporting(
        dsn="https://public@sentry.invalid/1",
        environment="test",
        release="test",
        transport=transport,
    )
    yield transport
    # No DSN: reporting off again for the rest of the session. No auto-enabled integrations
    # either: DjangoIntegration would set itself up for good and silence django.request.
    sentry_sdk.init(default_integrations=False, auto_enabling_integrations=False)


class JsonLogs:
    def __init__(self, buffer: io.StringIO):
        self.buffer = buffer

    @property
    def text(self) -> str:
        return self.buffer.getvalue()

    def records(self) -> list[dict]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]

    def by_logger(self, name: str) -> list[dict]:
        return [record for record in self.records() if record["logger"] == name]


@pytest.fixture
def json_logs():
    """Everything logged during the test, through the project's formatter and filter."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(
        JsonFormatter(
            service=settings.OTEL_SERVICE_NAME,
            environment=settings.DJANGO_ENV,
            version=settings.VERSION,
        )
    )
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield JsonLogs(buffer)
    root.removeHandler(handler)
    root.setLevel(previous_level)


@pytest.fixture
def error_client():
    """A client that gets the 500 response instead of the exception."""
    return APIClient(raise_request_exception=False)
