"""A request's correlation ID: taken from the caller when it is safe, else made here, decided
once and remembered on the request.

The problem bodies (common.problems) carry it; observability.correlation's middleware puts it
in the logs' context, on the span and in the response headers. `get_correlation_id(request)`
is the one way the code reads it; `correlation_id_from_headers` serves the health fast path,
which answers before Django builds a request.
"""

import re
import uuid

from django.http import HttpRequest

HEADERS = ("X-Correlation-ID", "X-Request-ID")
# A caller's ID is trusted only when it cannot smuggle anything into a header or a log line.
VALID_CORRELATION_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


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
