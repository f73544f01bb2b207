"""Sentry errors: one event per unhandled exception, in the OTel trace, per-request scope.

Requests go through Django's WSGIHandler, as under gunicorn: DjangoIntegration wraps that
handler (the test client's handler is another), so what it adds per request is tested too.
"""

import io
import logging
from urllib.parse import unquote_to_bytes, urlsplit

import pytest
import sentry_sdk
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import RequestFactory
from opentelemetry.trace import SpanKind

from observability import errors
from tests.observability.conftest import CapturingTransport

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.observability.urls")]

BOOM = "/api/v1/boom/"


class WsgiResponse:
    def __init__(self, status: str, headers: list, body: bytes):
        self.status_code = int(status.split()[0])
        self.headers = {name.lower(): value for name, value in headers}
        self.body = body

    def trace_id(self) -> str:
        """From W3C `traceresponse` (00-<trace id>-<span id>-<flags>), the OTel span's."""
        return self.headers["traceresponse"].split("-")[1]


def wsgi(method: str, path: str, data=None, **headers) -> WsgiResponse:
    """One request through WSGIHandler, from an environ as a server would pass it."""
    factory = RequestFactory(SERVER_NAME="testserver", HTTP_HOST="testserver")
    if method == "GET":
        environ = factory.get(path, data, **headers).environ
    else:
        environ = factory.generic(method, path, data or b"", "application/json", **headers)
        environ = environ.environ
    environ["wsgi.errors"] = io.StringIO()
    # The request built above put its decoded path back into the environ; a server passes the
    # raw bytes as ISO-8859-1 (PEP 3333), which is what WSGIHandler decodes a non-ASCII path from.
    environ["PATH_INFO"] = unquote_to_bytes(urlsplit(path).path).decode("iso-8859-1")
    started = []
    # As Django's test client does: the test's transaction (its connection) stays open.
    request_started.disconnect(close_old_connections)
    try:
        result = WSGIHandler()(
            environ, lambda status, hdrs, exc_info=None: started.append((status, hdrs))
        )
        body = b"".join(result)
        request_finished.disconnect(close_old_connections)
        result.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    ((status, response_headers),) = started
    return WsgiResponse(status, response_headers, body)


def configure(settings, traces_sample_rate: float) -> CapturingTransport:
    """Sentry as the settings configure it (its middleware is in MIDDLEWARE already, right
    inside the OTel one)."""
    assert errors.MIDDLEWARE in settings.MIDDLEWARE
    transport = CapturingTransport()
    errors.configure_error_reporting(
        dsn="https://public@sentry.invalid/1",
        environment="test",
        release="test",
        traces_sample_rate=traces_sample_rate,
        transport=transport,
    )
    return transport


def reset_sentry() -> None:
    # No DSN: reporting off again for the rest of the session (as conftest's fixture does).
    sentry_sdk.init(default_integrations=False, auto_enabling_integrations=False)


@pytest.fixture
def sentry(settings, spans):
    """Sentry at SENTRY_TRACES_SAMPLE_RATE=0 (errors only), the OTel SDK exporting to memory."""
    yield configure(settings, 0.0)
    reset_sentry()


def transactions(transport: CapturingTransport) -> list[dict]:
    found = (envelope.get_transaction_event() for envelope in transport.envelopes)
    return [transaction for transaction in found if transaction is not None]


def error_events(transport: CapturingTransport) -> list[dict]:
    return transport.events()


def server_span(spans):
    (server,) = [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER]
    return server


def test_unhandled_exception_is_one_event_with_trace_and_correlation(sentry, spans, json_logs):
    response = wsgi(
        "GET",
        BOOM,
        {"status": "new", "email": "ada.secret@example.com"},
        HTTP_X_CORRELATION_ID="boom-1",
    )

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert b"Traceback" not in response.body
    assert b"RuntimeError" not in response.body

    # DjangoIntegration reports the exception; the ERROR line Django logs for the same 500 on
    # django.request is no second event.
    (event,) = sentry.events()
    server = server_span(spans)
    assert event["contexts"]["trace"]["trace_id"] == format(server.context.trace_id, "032x")
    assert event["contexts"]["trace"]["trace_id"] == response.trace_id()
    assert event["tags"]["correlation_id"] == "boom-1"
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert event["exception"]["values"][-1]["mechanism"]["type"] == "django"
    assert event["environment"] == "test"
    assert event["transaction"] == "api/v1/boom/"  # the route template, OTel's http.route
    assert event["request"]["method"] == "GET"
    assert event["request"]["url"] == "http://testserver/api/v1/boom/"
    assert event["request"]["query_string"] == "status=new&email=[Filtered]"
    assert event["request"]["headers"]["X-Correlation-Id"] == "boom-1"
    assert "user" not in event  # anonymous
    assert "ada.secret" not in str(event)

    (error_line,) = json_logs.by_logger("django.request")
    assert error_line["level"] == "ERROR"
    assert error_line["correlation_id"] == "boom-1"
    assert error_line["trace_id"] == response.trace_id()


def test_handled_api_errors_are_not_reported(api_client, sentry):
    api_client.post("/api/v1/leads/", {"email": "not-valid"})
    api_client.get("/api/v1/leads/00000000-0000-0000-0000-000000000000/")
    assert wsgi("GET", "/api/v1/leads/00000000-0000-0000-0000-000000000000/").status_code == 401
    assert sentry.events() == []


def test_nothing_is_sent_when_sentry_is_off(error_client):
    assert sentry_sdk.get_client().dsn is None
    assert error_client.get(BOOM).status_code == 500


def log_during_request(get_response):
    """A middleware that logs one INFO line inside the request, for the breadcrumb test."""

    def middleware(request):
        logging.getLogger("tests.crumbs").info("inside %s", request.headers["X-Correlation-ID"])
        return get_response(request)

    return middleware


def test_each_event_carries_its_own_request_user_and_breadcrumbs(
    sentry, settings, client, admin_user, error_client
):
    """One scope per request: nothing of one request shows up on another's event."""
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.log_during_request"]
    client.force_login(admin_user)
    session = f"sessionid={client.cookies['sessionid'].value}"
    wsgi("GET", BOOM, {"status": "new"}, HTTP_X_CORRELATION_ID="first")
    wsgi("GET", BOOM, HTTP_X_CORRELATION_ID="second", HTTP_COOKIE=session)
    # The test client's handler is not WSGIHandler: the middleware's own scope isolates it.
    error_client.get(BOOM, HTTP_X_CORRELATION_ID="third")
    logging.getLogger("tests.crumbs").info("between requests")
    error_client.get(BOOM, HTTP_X_CORRELATION_ID="fourth")

    events = sentry.events()
    tags = [event["tags"]["correlation_id"] for event in events]
    assert tags == ["first", "second", "third", "fourth"]
    first, second, third, fourth = events
    assert first["request"]["query_string"] == "status=new"
    assert second["request"]["headers"]["Cookie"] == "[Filtered]"
    assert client.cookies["sessionid"].value not in str(second)
    # The user's ID, nothing else (no e-mail, username or IP address).
    assert second["user"] == {"id": str(admin_user.pk)}
    assert all("user" not in event for event in (first, third, fourth))
    # Each event's breadcrumbs are its own request's log lines, and only those.
    for event, tag in zip(events, tags, strict=True):
        messages = [
            crumb["message"]
            for crumb in event["breadcrumbs"]["values"]
            if crumb["category"] == "tests.crumbs"
        ]
        assert messages == [f"inside {tag}"]


def test_installed_integrations_and_data_collection(sentry):
    client = sentry_sdk.get_client()
    assert sorted(client.integrations) == sorted(errors.INTEGRATIONS)
    assert client.get_integration("stdlib") is None
    django = client.get_integration("django")
    assert django.transaction_style == "url"
    assert django.http_methods_to_capture == ()  # the transaction is the middleware's
    assert (django.middleware_spans, django.signals_spans, django.cache_spans) == (
        False,
        False,
        False,
    )
    options = client.options
    assert options["traces_sample_rate"] is None  # rate 0: no transaction work at all
    assert options["auto_session_tracking"] is False
    assert not options["send_default_pii"]
    assert options["data_collection"]["user_info"] is False
    assert options["data_collection"]["http_bodies"] == []
    assert options["before_send"] is errors.scrub_event
    assert options["before_send_transaction"] is errors.scrub_event
