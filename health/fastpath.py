"""/health/ping answered in front of Django: the cheapest proof that a worker serves HTTP.

Liveness-style pings arrive every few seconds from every kubelet and load balancer; through
Django they cost a request object, ten middleware and the request signals, about three times
what gunicorn itself spends (bench/RESULTS.md). Ping touches nothing by definition, so
`PingFastPath` wraps the WSGI application and answers GET/HEAD of /health/ping itself, with
the same status, body and headers as `health.views.ping` (tests/health/test_fastpath.py holds
them equal) and the caller's correlation ID echoed. Anything else goes to Django, including
other methods on the same path (a 405 problem from the view). Pings are not counted in the
Django request metrics; like every probe they are neither traced nor access-logged.
"""

from django.conf import settings

from common.correlation import HEADERS, correlation_id_from_headers
from health.reporting import HEALTH_CONTENT_TYPE

PING_PATHS = frozenset({"/health/ping", "/health/ping/"})
BODY = b'{"status": "pass"}'


class _EnvironHeaders:
    """request.headers-like access to the correlation headers of a WSGI environ."""

    def __init__(self, environ):
        self.environ = environ

    def get(self, name):
        return self.environ.get("HTTP_" + name.upper().replace("-", "_"))


class PingFastPath:
    def __init__(self, application):
        self.application = application
        security = (
            [("X-Content-Type-Options", "nosniff")] if settings.SECURE_CONTENT_TYPE_NOSNIFF else []
        )
        if settings.X_FRAME_OPTIONS:
            security.append(("X-Frame-Options", settings.X_FRAME_OPTIONS))
        if settings.SECURE_REFERRER_POLICY:
            security.append(("Referrer-Policy", settings.SECURE_REFERRER_POLICY))
        if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
            security.append(
                ("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY)
            )
        self.headers = [
            ("Content-Type", HEALTH_CONTENT_TYPE),
            ("Content-Length", str(len(BODY))),
            ("Cache-Control", "no-store"),
            *security,
        ]

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD")
        if environ.get("PATH_INFO") not in PING_PATHS or method not in ("GET", "HEAD"):
            return self.application(environ, start_response)
        correlation_id = correlation_id_from_headers(_EnvironHeaders(environ))
        start_response("200 OK", [*self.headers, *((header, correlation_id) for header in HEADERS)])
        return [BODY]  # the server drops it for HEAD, as it does for Django's response
