"""Correlation IDs: one ID per request, taken from the caller when it is safe, else made here.

`CorrelationIdMiddleware` takes the request's ID (decided once, by common.correlation, which
the problem bodies read too), keeps it in a context variable for log records and Sentry
events (read at event time, see errors.py), puts it on the active span, and echoes it (plus
W3C `traceresponse`, sent by the OTel response propagator) to the client.
`common.correlation.get_correlation_id(request)` is the one way the rest of the code reads
it; `outbound_headers()` gives what to forward on an outbound call.
"""

from contextvars import ContextVar

from django.http import HttpRequest
from opentelemetry import propagate, trace

from common.correlation import HEADERS, get_correlation_id

SPAN_ATTRIBUTE = "intelliflow.correlation_id"

correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def outbound_headers() -> dict[str, str]:
    """Headers for an outbound HTTP call: the correlation ID and W3C trace context."""
    headers: dict[str, str] = {}
    correlation_id = correlation_id_var.get()
    if correlation_id:
        headers = dict.fromkeys(HEADERS, correlation_id)
    propagate.inject(headers)
    return headers


class CorrelationIdMiddleware:
    """Runs inside the OTel server span (the instrumentation puts its middleware first)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        correlation_id = get_correlation_id(request)
        token = correlation_id_var.set(correlation_id)
        span = trace.get_current_span()
        # django.request writes its records after every middleware has returned and the span
        # has ended; the log filter reads the span context from here then.
        request.span_context = span.get_span_context()
        if span.is_recording():
            span.set_attribute(SPAN_ATTRIBUTE, correlation_id)
        try:
            response = self.get_response(request)
        finally:
            correlation_id_var.reset(token)
        for header in HEADERS:
            response[header] = correlation_id
        return response
