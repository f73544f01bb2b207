"""MIDDLEWARE: the request chain, in order, every entry listed here; the switches that add or
drop entries are read in metrics.py (METRICS_ENABLED) and tracing.py (OTEL_TRACE_REQUESTS).
Nothing adds to this list at run time (tests/intelliflow/test_settings.py checks a serving
process)."""

from intelliflow.settings.metrics import METRICS_ENABLED
from intelliflow.settings.tracing import OTEL_TRACE_REQUESTS

# opentelemetry-instrumentation-django's middleware: each request's SERVER span. Its
# instrumentor would insert it at the front at run time; it is listed here instead, in the same
# place (observability/tracing.py says how the instrumentor is kept from writing it again).
# Correlation and the access line run inside its span and around everything else.
OTEL_DJANGO_MIDDLEWARE = (
    "opentelemetry.instrumentation.django.middleware.otel_middleware._DjangoMiddleware"
)

MIDDLEWARE = [
    *([OTEL_DJANGO_MIDDLEWARE] if OTEL_TRACE_REQUESTS else []),
    # Sentry's per-request scope and, when Sentry tracing is on, its transaction as the OTel
    # server span (right inside that span); with Sentry off it passes through.
    "observability.errors.SentryRequestMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "observability.correlation.CorrelationIdMiddleware",
    "observability.logging.AccessLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response (django-csp for pages; pages/csp.py).
    "pages.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Login attempts beyond LOGIN_CONCURRENCY per worker are turned away before any work.
    "accounts.gate.LoginGateMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Turns a login that django-axes refused or locked out into its lockout page (429).
    "axes.middleware.AxesMiddleware",
    # Last but one: a view's lost database becomes a 503 after the exception has been counted.
    "common.problems.DatabaseUnavailableMiddleware",
    "observability.metrics.PrometheusAfterMiddleware",
]
if not METRICS_ENABLED:
    MIDDLEWARE = [m for m in MIDDLEWARE if "Prometheus" not in m]
