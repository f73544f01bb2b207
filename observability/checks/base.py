"""What every area of the observability checks shares: the `Finding` each check returns, the
three statuses, whether the settings are production ones, the network probes, and the names of
the middleware whose order the checks inspect."""

import dataclasses
import socket
from urllib.parse import urlsplit

from django.conf import settings

PASS, WARN, FAIL = "pass", "warn", "fail"
NETWORK_TIMEOUT_SECONDS = 2.0
CORRELATION = "observability.correlation.CorrelationIdMiddleware"
ACCESS_LOG = "observability.logging.AccessLogMiddleware"
PROMETHEUS_BEFORE = "django_prometheus.middleware.PrometheusBeforeMiddleware"
SENTRY_REQUEST = "observability.errors.SentryRequestMiddleware"  # logs nothing
# opentelemetry-instrumentation-django's middleware comes first: correlation runs in its span.
TRACING_MODULE = "opentelemetry.instrumentation.django."
PROMETHEUS_AFTER = "observability.metrics.PrometheusAfterMiddleware"


@dataclasses.dataclass(frozen=True)
class Finding:
    area: str
    name: str
    status: str
    detail: str
    hint: str = ""


def production() -> bool:
    return not settings.DEBUG


def tcp_reachable(url: str, timeout: float = NETWORK_TIMEOUT_SECONDS) -> str | None:
    """None when a TCP connection to the URL's host and port opens in time, else why not."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return None
    except OSError as error:
        return f"{parts.hostname}:{port}: {error.strerror or error}"


def http_ok(url: str, timeout: float = NETWORK_TIMEOUT_SECONDS) -> str | None:
    """None when GET url answers 2xx in time, else why not."""
    import urllib.error
    import urllib.request

    try:
        # The URL comes from settings (http or https), not from a request.
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            return None if 200 <= response.status < 300 else f"HTTP {response.status}"
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code}"
    except (OSError, ValueError) as error:
        return str(getattr(error, "reason", error))
