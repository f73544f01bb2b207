"""Correlation IDs: one ID per request, taken from the caller when it is safe, else made here.

`CorrelationIdMiddleware` decides the ID once, keeps it in a context variable for log records
and Sentry events (read at event time, see errors.py), puts it on the active span, and echoes
it (plus W3C `traceresponse`, sent by the OTel response propagator) to the client.
`get_correlation_id(request)` is the one way the rest of the code reads it;
`outbound_headers()` gives what to forward on an outbound call.
"""

import re
import uuid
from contextvars import ContextVar

from django.http import HttpRequest
from opentelemetry import propagate, trace

HEADERS = ("X-Correlation-ID", "X-Request-ID")
SPAN_ATTRIBUTE = "intelliflow.correlation_id"
# A caller's ID is trusted only when it cannot smuggle anything into a header or a log line.
VALID_CORRELATION_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def correlation_id_from_headers(headers) -> str:
    """The first valid inbound ID among HEADERS, else a new UUID4; an invalid value is dropped."""
    for name in HEADERS:
        value = headers.get(name)
        if value and VALID_CORRELATION_ID.fullmatch(value):
            return value
    return str(uuid.uuid4())


def get_correlation_id(request: HttpRequest) -> str:
    """The request's correlation ID, decided once and remembered on the request."""
    correlation_id = getattr(request, "correlation_id", None)
    if correlation_id is None:
        correlation_id = correlation_id_from_headers(request.headers)
        request.correlation_id = correlation_id
    return correlation_id


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
