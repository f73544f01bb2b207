"""OpenTelemetry traces for Django and psycopg, configured from the standard OTEL_* variables.

Two steps, because of gunicorn's fork:
- `instrument()` puts `TracingMiddleware` first in MIDDLEWARE and patches psycopg. It starts
  no thread, so it may run anywhere, before the WSGI handler is built.
- `configure_tracing()` builds the TracerProvider, its BatchSpanProcessor (a thread) and the
  exporter. Under gunicorn it runs in each worker's `post_fork`, never in the master.

Entry points call `setup_for_process()`; gunicorn.conf.py calls `defer_to_post_fork()` first.
Spans pass through `ScrubbingSpanExporter`, so no secret or lead personal data is exported,
and shutdown is bounded so an unreachable collector never holds a worker's exit.

Cost (bench/RESULTS.md): the server span comes from our `TracingMiddleware`, not from
opentelemetry-instrumentation-django, whose middleware built the absolute URI twice and
resolved the URL again on every request, traced or not; probes are skipped by a path prefix.
Database spans are made only inside a recorded span: an unsampled request's queries skip the
instrumentation's per-query SQL parsing and span bookkeeping.
"""

import atexit
import functools
import os
import sys
import threading
import uuid
from collections.abc import Sequence

from django.conf import settings
from opentelemetry import context, propagate, trace
from opentelemetry.instrumentation.propagators import TraceResponsePropagator
from opentelemetry.propagators.textmap import Getter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.trace import SpanKind, Status, StatusCode

from observability import scrubbing

MIDDLEWARE = "observability.tracing.TracingMiddleware"
SHUTDOWN_TIMEOUT_SECONDS = 1.5
# HTTP methods as the semantic conventions know them; anything else is reported as _OTHER.
KNOWN_METHODS = frozenset(
    {"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"}
)

_instrumented = False
_deferred_to_post_fork = False
_provider: TracerProvider | None = None
_provider_pid: int | None = None


def tracing_enabled() -> bool:
    return settings.OTEL_ENABLED


def instrument() -> None:
    """Trace requests and psycopg once per process; safe before a fork."""
    global _instrumented
    if _instrumented:
        return
    # Stable database attribute names (db.query.text, db.system.name, ...).
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http,database")
    from opentelemetry.instrumentation.psycopg import CursorTracer, PsycopgInstrumentor

    if MIDDLEWARE not in settings.MIDDLEWARE:
        settings.MIDDLEWARE = [MIDDLEWARE, *settings.MIDDLEWARE]
    # No SQL commenter (it would defeat statement caching) and no bound parameters captured.
    PsycopgInstrumentor().instrument(enable_commenter=False, capture_parameters=False)
    _trace_queries_only_in_recorded_spans(CursorTracer)
    _instrumented = True


def is_instrumented() -> bool:
    return _instrumented


def _trace_queries_only_in_recorded_spans(cursor_tracer) -> None:
    """Skip the instrumentation's work for a query whose span would not be recorded anyway.

    With a parent-based sampler an unsampled request's query spans are dropped; the
    instrumentation still parses each statement and builds a span and metric attributes for
    them. Queries outside any request (management commands, the metrics sampler, health
    probes, which are not traced) are not traced either: they would each be a root trace.
    """
    traced_execution = cursor_tracer.traced_execution

    def execution_traced_when_recorded(self, cursor, query_method, *args, **kwargs):
        if not trace.get_current_span().is_recording():
            return query_method(*args, **kwargs)
        return traced_execution(self, cursor, query_method, *args, **kwargs)

    cursor_tracer.traced_execution = execution_traced_when_recorded


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


def exporter_kind() -> str:
    """OTEL_TRACES_EXPORTER (otlp, console, none); by default otlp when an endpoint is set,
    else console in DEBUG (developers see their spans) and none in production."""
    endpoint_set = bool(
        os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )
    default = "otlp" if endpoint_set else ("console" if settings.DEBUG else "none")
    return os.environ.get("OTEL_TRACES_EXPORTER", default).strip().lower()


def _exporter_from_environment() -> SpanExporter | None:
    kind = exporter_kind()
    if kind == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()  # endpoint, headers, timeout: the standard OTEL_* variables
    if kind == "console":
        # One line per span, so the console stays line-oriented like the JSON logs.
        return ConsoleSpanExporter(out=sys.stdout, formatter=lambda span: span.to_json(None) + "\n")
    if kind == "none":
        return None
    raise ValueError(f"OTEL_TRACES_EXPORTER={kind!r}: expected otlp, console or none")


class HashedOnceResource(Resource):
    """The SDK's Resource, hashed once. The OTLP encoder groups each batch's spans in a dict
    keyed by resource, and Resource.__hash__ serialises every attribute to JSON on each call:
    once per exported span, for a value that never changes (a Resource is immutable)."""

    _hash: int | None = None

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = super().__hash__()
        return self._hash


def build_resource() -> Resource:
    """service.*, deployment.environment.name and a per-process instance id (one per worker);
    OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME are merged in by Resource.create."""
    resource = Resource.create(
        {
            "service.name": settings.OTEL_SERVICE_NAME,
            "service.version": settings.VERSION,
            "deployment.environment.name": settings.DJANGO_ENV,
            "service.instance.id": str(uuid.uuid4()),
            "process.pid": os.getpid(),
        }
    )
    return HashedOnceResource(resource.attributes, resource.schema_url)


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


# Span attribute values repeat: the same SQL statements, routes, user agents and addresses,
# span after span. Each distinct string is scrubbed once (the regexes scan every character);
# the bounds keep a stream of unique or long values (paths with ids, stack traces) out.
_scrub_repeated_text = functools.lru_cache(maxsize=512)(scrubbing.scrub_text)
CACHED_TEXT_MAX_LENGTH = 4096


def _scrub_attributes(attributes) -> dict:
    scrubbed = {}
    for key, value in (attributes or {}).items():
        if key == "url.query" and isinstance(value, str):
            scrubbed[key] = scrubbing.scrub_query_string(value)
        elif scrubbing.is_sensitive_key(key.rsplit(".", 1)[-1]):
            scrubbed[key] = scrubbing.FILTERED
        elif isinstance(value, str) and len(value) <= CACHED_TEXT_MAX_LENGTH:
            scrubbed[key] = _scrub_repeated_text(value)
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


class _MetaGetter(Getter):
    """W3C trace context from a WSGI environ (Django's request.META)."""

    def get(self, carrier, key):
        value = carrier.get("HTTP_" + key.upper().replace("-", "_"))
        return [value] if value is not None else None

    def keys(self, carrier):
        return [key[5:].lower().replace("_", "-") for key in carrier if key.startswith("HTTP_")]


_meta_getter = _MetaGetter()
_response_propagator = TraceResponsePropagator()


class TracingMiddleware:
    """The server span of each request, named `METHOD route-template` once the URL resolved.

    W3C `traceparent` is continued, `traceresponse` returned. Probes and scrapes
    (settings.PROBE_PATH_PREFIXES) are not traced. Request attributes follow the stable HTTP
    semantic conventions and are computed only for a recorded (sampled) span; `url.query` is
    scrubbed by the exporter. A 5xx or an exception from the view marks the span as an error.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.tracer = trace.get_tracer(__name__, settings.VERSION)
        self.excluded_prefixes = settings.PROBE_PATH_PREFIXES

    def __call__(self, request):
        if request.path.startswith(self.excluded_prefixes):
            return self.get_response(request)
        method = request.method if request.method in KNOWN_METHODS else "_OTHER"
        parent = propagate.extract(request.META, getter=_meta_getter)
        span = self.tracer.start_span(method, context=parent, kind=SpanKind.SERVER)
        if span.is_recording():
            span.set_attributes(_request_attributes(request, method))
        request.server_span = span
        token = context.attach(trace.set_span_in_context(span, parent))
        try:
            response = self.get_response(request)
        except BaseException as error:  # nothing under Django's handler should get here
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, type(error).__qualname__))
            span.end()
            raise
        finally:
            context.detach(token)
        if span.is_recording():
            span.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 500:
                if "error.type" not in span.attributes:  # process_exception named it already
                    span.set_attribute("error.type", str(response.status_code))
                span.set_status(Status(StatusCode.ERROR))
        span.end()
        _response_propagator.inject(response, context=trace.set_span_in_context(span))
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        """The route is known now, before the view's queries start their spans."""
        span = getattr(request, "server_span", None)
        match = request.resolver_match
        if span is not None and span.is_recording() and match is not None and match.route:
            span.set_attribute("http.route", match.route)
            method = span.attributes.get("http.request.method")
            span.update_name(f"{'HTTP' if method == '_OTHER' else method} {match.route}")

    def process_exception(self, request, exception):
        span = getattr(request, "server_span", None)
        if span is not None and span.is_recording():
            span.record_exception(exception)
            span.set_attribute("error.type", type(exception).__qualname__)


def _request_attributes(request, method: str) -> dict:
    meta = request.META
    attributes = {
        "http.request.method": method,
        "url.scheme": request.scheme,
        "url.path": request.path,
        "server.address": meta.get("SERVER_NAME", ""),
        "network.protocol.version": meta.get("SERVER_PROTOCOL", "").removeprefix("HTTP/"),
    }
    if method == "_OTHER":
        attributes["http.request.method_original"] = request.method
    if port := meta.get("SERVER_PORT"):
        attributes["server.port"] = int(port) if port.isdigit() else port
    if query := meta.get("QUERY_STRING"):
        attributes["url.query"] = query
    if client := meta.get("REMOTE_ADDR"):
        attributes["client.address"] = client
    if user_agent := meta.get("HTTP_USER_AGENT"):
        attributes["user_agent.original"] = user_agent
    return attributes
