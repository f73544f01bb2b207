"""Correlation IDs: taken when safe, replaced when not, echoed, and forwarded."""

import pytest
from opentelemetry import trace

from observability.correlation import correlation_id_var, outbound_headers

pytestmark = pytest.mark.django_db

LEADS = "/api/v1/leads/"


def test_valid_request_id_is_echoed_in_both_headers(anon_client):
    response = anon_client.get(LEADS, HTTP_X_REQUEST_ID="req-42:a.b_c")
    assert response["X-Correlation-ID"] == response["X-Request-ID"] == "req-42:a.b_c"


def test_correlation_id_header_wins_over_request_id(anon_client):
    response = anon_client.get(LEADS, HTTP_X_CORRELATION_ID="corr-1", HTTP_X_REQUEST_ID="req-1")
    assert response["X-Correlation-ID"] == "corr-1"


@pytest.mark.parametrize(
    "bad",
    ["x" * 129, "evil\r\nSet-Cookie: a=b", "has spaces", "Z" * 10_240, "ünïcode", ""],
    ids=["too-long", "crlf", "spaces", "10KB", "non-ascii", "empty"],
)
def test_invalid_inbound_id_is_replaced_and_never_logged(anon_client, json_logs, bad):
    response = anon_client.get(LEADS, HTTP_X_REQUEST_ID=bad)
    replaced = response["X-Request-ID"]
    assert replaced != bad
    assert len(replaced) == 36  # a UUID4
    assert response.json()["correlation_id"] == replaced
    if bad:
        assert bad not in json_logs.text
    assert all(record["correlation_id"] == replaced for record in json_logs.records())


def test_outbound_headers_carry_correlation_and_trace_context(spans):
    tracer = trace.get_tracer("test")
    token = correlation_id_var.set("corr-out")
    try:
        with tracer.start_as_current_span("outbound") as span:
            headers = outbound_headers()
            trace_id = format(span.get_span_context().trace_id, "032x")
    finally:
        correlation_id_var.reset(token)
    assert headers["X-Correlation-ID"] == headers["X-Request-ID"] == "corr-out"
    assert headers["traceparent"].split("-")[1] == trace_id


def test_outbound_headers_outside_a_request_are_empty():
    assert outbound_headers() == {}
