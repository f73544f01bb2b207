"""OpenTelemetry traces for Django and psycopg, configured from the standard OTEL_* variables.

Two steps, because of gunicorn's fork:
- `instrument()` patches Django (its middleware goes first in MIDDLEWARE) and psycopg. It
  starts no thread, so it may run anywhere, before the WSGI handler is built.
- `configure_tracing()` builds the TracerProvider, its BatchSpanProcessor (a thread) and the
  exporter. Under gunicorn it runs in each worker's `post_fork`, never in the master.

Entry points call `setup_for_process()`; gunicorn.conf.py calls `defer_to_post_fork()` first.
Spans pass through `ScrubbingSpanExporter`, so no secret or lead personal data is exported,
and shutdown is bounded so an unreachable collector never holds a worker's exit.
"""

import atexit
import os
import sys
import threading
import uuid
from collections.abc import Sequence

from django.conf import settings
from opentelemetry import trace
from opentelemetry.instrumentation.propagators import (
    TraceResponsePropagator,
    set_global_response_propagator,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.trace import Status

from observability import scrubbing

# Probes and scrapes are not traced (matched against the absolute URL without query string).
EXCLUDED_URLS = r"^https?://[^/]+/(health|metrics)(/|$)"
SHUTDOWN_TIMEOUT_SECONDS = 1.5

_instrumented = False
_deferred_to_post_fork = False
_provider: TracerProvider | None = None
_provider_pid: int | None = None


def tracing_enabled() -> bool:
    return settings.OTEL_ENABLED


def instrument() -> None:
    """Patch Django and psycopg once per process; safe before a fork."""
    global _instrumented
    if _instrumented:
        return
    # Stable HTTP and database attribute names (http.route, db.query.text, ...).
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http,database")
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

    set_global_response_propagator(TraceResponsePropagator())  # the `traceresponse` header
    DjangoInstrumentor().instrument(excluded_urls=EXCLUDED_URLS)
    # No SQL commenter (it would defeat statement caching) and no bound parameters captured.
    PsycopgInstrumentor().instrument(enable_commenter=False, capture_parameters=False)
    _instrumented = True


def defer_to_post_fork() -> None:
    """Called in gunicorn's master: workers build their provider in post_fork instead."""
    global _deferred_to_post_fork
    _deferred_to_post_fork = True


def setup_for_process() -> None:
    """For entry points (wsgi, asgi, manage.py): instrument, and build the provider if ours."""
    if not tracing_enabled():
        return
    instrument()
    if not _deferred_to_post_fork:
        configure_tracing()


def _exporter_from_environment() -> SpanExporter | None:
    """OTEL_TRACES_EXPORTER (otlp, console, none); by default otlp when an endpoint is set,
    else console in DEBUG (developers see their spans) and none in production."""
    endpoint_set = bool(
        os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )
    default = "otlp" if endpoint_set else ("console" if settings.DEBUG else "none")
    kind = os.environ.get("OTEL_TRACES_EXPORTER", default).strip().lower()
    if kind == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()  # endpoint, headers, timeout: the standard OTEL_* variables
    if kind == "console":
        # One line per span, so the console stays line-oriented like the JSON logs.
        return ConsoleSpanExporter(out=sys.stdout, formatter=lambda span: span.to_json(None) + "\n")
    if kind == "none":
        return None
    raise ValueError(f"OTEL_TRACES_EXPORTER={kind!r}: expected otlp, console or none")


def build_resource() -> Resource:
    """service.*, deployment.environment.name and a per-process instance id (one per worker);
    OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME are merged in by Resource.create."""
    return Resource.create(
        {
            "service.name": settings.OTEL_SERVICE_NAME,
            "service.version": settings.VERSION,
            "deployment.environment.name": settings.DJANGO_ENV,
            "service.instance.id": str(uuid.uuid4()),
            "process.pid": os.getpid(),
        }
    )


def configure_tracing(
    *, exporter: SpanExporter | None = None, processor_class=BatchSpanProcessor
) -> TracerProvider:
    """Build and install this process's TracerProvider (once per process).

    The sampler comes from OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (the SDK reads them;
    default parentbased_always_on). Pass `exporter` to replace the environment's choice.
    """
    global _provider, _provider_pid
    if _provider is not None and _provider_pid == os.getpid():
        return _provider
    # shutdown_on_exit=False: the SDK's own atexit hook waits up to 30 s on the exporter.
    provider = TracerProvider(resource=build_resource(), shutdown_on_exit=False)
    provider.add_span_processor(RouteToChildSpansProcessor())
    exporter = exporter if exporter is not None else _exporter_from_environment()
    if exporter is not None:
        provider.add_span_processor(processor_class(ScrubbingSpanExporter(exporter)))
    trace.set_tracer_provider(provider)
    _provider, _provider_pid = provider, os.getpid()
    atexit.register(shutdown_tracing)
    return provider


def shutdown_tracing(timeout_seconds: float = SHUTDOWN_TIMEOUT_SECONDS) -> None:
    """Flush and stop, giving up after `timeout_seconds`: a dead collector must not hold exit."""
    global _provider
    provider, _provider = _provider, None
    if provider is None:
        return
    # The export thread is a daemon; if the exporter hangs, the process exits without it.
    stopper = threading.Thread(target=provider.shutdown, name="otel-shutdown", daemon=True)
    stopper.start()
    stopper.join(timeout_seconds)


class RouteToChildSpansProcessor(SpanProcessor):
    """Copies the request's `http.route` onto its child spans (the psycopg ones), so the
    collector's span metrics can tell database time per route. One dict lookup per span."""

    def on_start(self, span, parent_context=None) -> None:
        parent = trace.get_current_span(parent_context)
        attributes = getattr(parent, "attributes", None)
        if attributes and "http.route" in attributes and span.kind != trace.SpanKind.SERVER:
            span.set_attribute("http.route", attributes["http.route"])


def _scrub_attributes(attributes) -> dict:
    scrubbed = {}
    for key, value in (attributes or {}).items():
        if key == "url.query" and isinstance(value, str):
            scrubbed[key] = scrubbing.scrub_query_string(value)
        elif scrubbing.is_sensitive_key(key.rsplit(".", 1)[-1]):
            scrubbed[key] = scrubbing.FILTERED
        else:
            scrubbed[key] = scrubbing.scrub(value)
    return scrubbed


def scrub_span(span: ReadableSpan) -> ReadableSpan:
    """A copy of `span` whose attributes, events and status carry no secret or personal data."""
    status = span.status
    if status.description:
        status = Status(status.status_code, scrubbing.scrub_text(status.description))
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=_scrub_attributes(span.attributes),
        events=[
            Event(event.name, _scrub_attributes(event.attributes), event.timestamp)
            for event in span.events
        ],
        links=span.links,
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class ScrubbingSpanExporter(SpanExporter):
    """Wraps any exporter; scrubbing runs in the export thread, off the request path."""

    def __init__(self, exporter: SpanExporter):
        self.exporter = exporter

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.exporter.export([scrub_span(span) for span in spans])

    def shutdown(self) -> None:
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.exporter.force_flush(timeout_millis)
