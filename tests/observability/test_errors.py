"""Sentry: one event per unhandled exception, linked to the trace, the client told politely."""

import pytest
from opentelemetry.trace import SpanKind

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.observability.urls")]

BOOM = "/api/v1/boom/"


def test_unhandled_exception_is_one_event_with_trace_and_correlation(
    error_client, spans, sentry_transport, json_logs
):
    response = error_client.get(BOOM, HTTP_X_CORRELATION_ID="boom-1")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["correlation_id"] == "boom-1"
    assert body["type"].endswith("/server-error")
    assert "Traceback" not in response.content.decode()
    assert "RuntimeError" not in response.content.decode()

    (event,) = sentry_transport.events()
    (server,) = [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER]
    assert event["contexts"]["trace"]["trace_id"] == format(server.context.trace_id, "032x")
    assert event["tags"]["correlation_id"] == "boom-1"
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert event["environment"] == "test"
    # What DjangoIntegration would have attached per request, attached at event time instead.
    assert event["transaction"] == "api/v1/boom/"
    assert event["request"]["method"] == "GET"
    assert event["request"]["url"] == "http://testserver/api/v1/boom/"
    assert event["request"]["headers"]["X-Correlation-Id"] == "boom-1"

    (error_line,) = json_logs.by_logger("django.request")
    assert error_line["level"] == "ERROR"
    assert error_line["correlation_id"] == "boom-1"
    assert error_line["trace_id"] == format(server.context.trace_id, "032x")
    assert error_line["exception.type"] == "builtins.RuntimeError"


def test_handled_api_errors_are_not_reported(api_client, sentry_transport):
    api_client.post("/api/v1/leads/", {"email": "not-valid"})
    api_client.get("/api/v1/leads/00000000-0000-0000-0000-000000000000/")
    assert sentry_transport.events() == []


def test_nothing_is_sent_when_sentry_is_off(error_client):
    import sentry_sdk

    assert sentry_sdk.get_client().dsn is None
    assert error_client.get(BOOM).status_code == 500


def test_each_event_carries_its_own_request(error_client, admin_user, sentry_transport):
    """No per-request Sentry scope: nothing of one request may show up on another's event."""
    error_client.get(BOOM + "?status=new", HTTP_X_CORRELATION_ID="first")
    error_client.force_login(admin_user)
    error_client.post(BOOM, {}, format="json", HTTP_X_CORRELATION_ID="second")

    first, second = sentry_transport.events()
    assert (first["tags"]["correlation_id"], second["tags"]["correlation_id"]) == (
        "first",
        "second",
    )
    assert first["request"]["query_string"] == "status=new"
    assert "user" not in first
    assert first.get("breadcrumbs", {"values": []})["values"] == []
    assert second["request"]["method"] == "POST"
    assert second["user"] == {"id": str(admin_user.pk)}


def test_no_per_request_integration_is_installed(sentry_transport):
    import sentry_sdk

    client = sentry_sdk.get_client()
    assert client.get_integration("django") is None
    assert client.get_integration("stdlib") is None
    assert client.get_integration("logging") is not None
