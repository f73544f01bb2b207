"""What a serving process (wsgi.py, asgi.py) does once Django is set up.

It refuses to serve without a secret key, starts tracing and the metrics sampler, and writes
one log line each for tracing and Sentry: on, where the data goes, or off and why.
"""

import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from opentelemetry import trace

from observability import metrics, tracing

logger = logging.getLogger("intelliflow.startup")


def start_serving_process() -> None:
    try:
        settings.SECRET_KEY  # noqa: B018 - Django refuses an empty key on access
    except ImproperlyConfigured:
        raise ImproperlyConfigured(settings.SECRET_KEY_MISSING) from None
    tracing.setup_for_process()
    metrics.start_sampler()  # pool and process gauges of this worker
    log_configuration()


def log_configuration() -> None:
    logger.info(*tracing_summary())
    logger.info(*sentry_summary())


def _traces_endpoint() -> str:
    """Where the OTLP exporter sends spans, as it works it out from the same two variables."""
    endpoint = settings.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
    if endpoint:
        return endpoint
    base = settings.OTEL_EXPORTER_OTLP_ENDPOINT
    return f"{base.rstrip('/')}/v1/traces" if base else ""


def tracing_summary() -> tuple[str, ...]:
    """A log message and its arguments."""
    if settings.OTEL_SDK_DISABLED:
        return ("OpenTelemetry tracing is off: OTEL_SDK_DISABLED is true",)
    if not settings.OTEL_ENABLED:
        return ("OpenTelemetry tracing is off: OTEL_ENABLED is not true",)
    if settings.OTEL_PYTHON_DJANGO_INSTRUMENT == "False":
        # Query spans are kept only inside a request's trace (tracing.RequestRootsOnly).
        return ("OpenTelemetry tracing is off: OTEL_PYTHON_DJANGO_INSTRUMENT is False",)
    provider = trace.get_tracer_provider()
    sampler = getattr(provider, "sampler", None)
    exporter = tracing.exporter_kind()
    destination = {
        "otlp": f"OTLP/HTTP to {_traces_endpoint() or 'http://localhost:4318/v1/traces'}",
        "console": "the console (stdout)",
        "none": "nowhere (no OTEL_EXPORTER_OTLP_ENDPOINT; OTEL_TRACES_EXPORTER=none)",
    }.get(exporter, exporter)
    return (
        "OpenTelemetry tracing initialized: service %s, spans to %s, sampler %s",
        settings.OTEL_SERVICE_NAME,
        destination,
        sampler.get_description() if sampler is not None else "unknown",
    )


def sentry_summary() -> tuple[str, ...]:
    if not settings.SENTRY_ENABLED:
        return ("Sentry error reporting is off: SENTRY_ENABLED is not true",)
    if not settings.SENTRY_DSN:
        return ("Sentry error reporting is off: SENTRY_ENABLED is true but SENTRY_DSN is empty",)
    from sentry_sdk.utils import Dsn

    return (
        "Sentry error reporting initialized: host %s, environment %s, release %s, "
        "transactions at %s of requests",
        Dsn(settings.SENTRY_DSN).host,
        settings.SENTRY_ENVIRONMENT,
        settings.SENTRY_RELEASE,
        f"{settings.SENTRY_TRACES_SAMPLE_RATE:.0%}",
    )
