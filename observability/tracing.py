"""OpenTelemetry traces for Django and psycopg, from the ecosystem's own instrumentations.

Two steps, because of gunicorn's fork:
- `instrument()` runs `DjangoInstrumentor` (opentelemetry-instrumentation-django: it
  configures the middleware that the settings list first in MIDDLEWARE, which makes each
  request's SERVER span) and `PsycopgInstrumentor` (a CLIENT span per query). It starts no
  thread, so it may run anywhere, before the first request.
- `configure_tracing()` builds the TracerProvider, its BatchSpanProcessor (a thread) and the
  exporter. Under gunicorn it runs in each worker's `post_fork`, never in the master.

Entry points call `setup_for_process()`; gunicorn.conf.py calls `defer_to_post_fork()` first.

Everything the instrumentations document works as documented: OTEL_PYTHON_DJANGO_EXCLUDED_URLS
(default here: the probes and /metrics, settings.OTEL_PYTHON_DJANGO_EXCLUDED_URLS),
OTEL_PYTHON_DJANGO_TRACED_REQUEST_ATTRS, OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_*,
the standard sampler and exporter variables. Whatever they add, spans pass through
`ScrubbingSpanExporter` before they leave the process, so no secret or lead personal data is
exported, and shutdown is bounded so an unreachable collector never holds a worker's exit.
"""

import atexit
import functools
import os
import sys
import threading
import types
import uuid
from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from opentelemetry import trace
from opentelemetry.instrumentation.propagators import (
    TraceResponsePropagator,
    set_global_response_propagator,
)
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import SpanKind, Status

from observability import scrubbing

SHUTDOWN_TIMEOUT_SECONDS = 1.5
INSTRUMENTATION_SCOPES = (
    "opentelemetry.instrumentation.django",
    "opentelemetry.instrumentation.psycopg",
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
    # The attribute names (settings.OTEL_SEMCONV_STABILITY_OPT_IN, stable by default), handed to
    # the instrumentations the one way they take them, the standard variable, before they read
    # it (on their first instrument()).
    os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = settings.OTEL_SEMCONV_STABILITY_OPT_IN
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

    # W3C `traceresponse` on every traced response, so a client can find its trace.
    set_global_response_propagator(TraceResponsePropagator())
    instrument_django()
    # No SQL commenter (it would defeat statement caching) and no bound parameters captured.
    PsycopgInstrumentor().instrument(enable_commenter=False, capture_parameters=False)
    _instrumented = True


def instrument_django() -> None:
    """Configure opentelemetry-instrumentation-django's middleware, which the settings list
    first in MIDDLEWARE when requests are traced (settings.OTEL_TRACE_REQUESTS).

    DjangoInstrumentor().instrument() configures that middleware class: tracer, meter and
    histograms, excluded URLs, hooks (0.66b1, opentelemetry/instrumentation/django/__init__.py,
    `_instrument`, lines 385-428). Then, with no option to skip it, it installs the middleware
    by writing settings: it inserts it into the list `settings.MIDDLEWARE` returns, in place,
    and assigns the list back with `setattr(settings, "MIDDLEWARE", ...)` (lines 435-469): a
    change behind the reader's back, and a second copy where the settings list it already.
    `settings` there is that module's name for django.conf.settings (line 307), used by
    `_instrument` and `_uninstrument` only. For the length of this call it names a stand-in
    holding a copy of MIDDLEWARE instead, so the insert and the write go to the copy, which is
    dropped: one module attribute swapped and restored, nothing of the instrumentor
    reimplemented. tests/intelliflow/test_settings.py checks that a serving process's settings
    are the ones the settings module computed.
    """
    from opentelemetry.instrumentation import django as django_instrumentation

    declared = list(settings.MIDDLEWARE)
    django_settings = django_instrumentation.settings
    django_instrumentation.settings = types.SimpleNamespace(MIDDLEWARE=list(declared))
    try:
        django_instrumentation.DjangoInstrumentor().instrument(
            excluded_urls=settings.OTEL_PYTHON_DJANGO_EXCLUDED_URLS,
            request_hook=request_hook,
            response_hook=response_hook,
        )
    finally:
        django_instrumentation.settings = django_settings
    if list(settings.MIDDLEWARE) != declared:  # a release that reaches settings another way
        raise ImproperlyConfigured(
            "opentelemetry-instrumentation-django changed settings.MIDDLEWARE; "
            "observability.tracing.instrument_django() no longer fits this release."
        )


def request_hook(span, request) -> None:
    """An unsampled request (most of them, at 10 %) records no span below its own, so its
    queries skip the psycopg instrumentation altogether (statement parsing, span bookkeeping):
    the instrumentation's public `suppress_instrumentation()` is entered here and left in
    `response_hook`, which the instrumentation calls for every request it started."""
    if not span.is_recording():
        suppression = suppress_instrumentation()
        suppression.__enter__()
        request.telemetry_suppression = suppression


def response_hook(span, request, response) -> None:
    """What the Django instrumentation lacks: who asked (an id, never contact data). The
    correlation ID is put on the span by observability.correlation's middleware."""
    suppression = request.__dict__.pop("telemetry_suppression", None)
    if suppression is not None:
        suppression.__exit__(None, None, None)
    if not span.is_recording():
        return
    from observability.logging import resolved_user_id

    user_id = resolved_user_id(request)
    if user_id is not None:
        span.set_attribute("user.id", str(user_id))


class RequestRootsOnly(Sampler):
    """The configured sampler (OTEL_TRACES_SAMPLER), except that a database span with no parent
    is dropped: queries outside a request (the metrics sampler thread, health probes, which
    are not traced, management commands) would each become a trace of one span."""

    def __init__(self, sampler: Sampler):
        self.sampler = sampler

    def should_sample(
        self, parent_context, trace_id, name, kind=None, attributes=None, links=None,
        trace_state=None,
    ) -> SamplingResult:  # fmt: skip
        if (
            kind == SpanKind.CLIENT
            and not trace.get_current_span(parent_context).get_span_context().is_valid
        ):
            return SamplingResult(Decision.DROP)
        return self.sampler.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return self.sampler.get_description()


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
    """settings.OTEL_TRACES_EXPORTER: otlp, console or none (its default: an endpoint's otlp,
    else console in DEBUG and none in production)."""
    return settings.OTEL_TRACES_EXPORTER


def exporter_from_environment() -> SpanExporter | None:
    kind = exporter_kind()
    if kind == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        # Endpoint, headers, timeout: the exporter reads the standard OTEL_EXPORTER_OTLP_*
        # variables itself, as the SDK documents (settings/tracing.py reads the endpoints only
        # to choose this exporter and to report where spans go).
        return OTLPSpanExporter()
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
    # The sampler the SDK builds from OTEL_TRACES_SAMPLER / _ARG, wrapped.
    configured = TracerProvider(shutdown_on_exit=False).sampler
    provider = TracerProvider(
        resource=build_resource(), sampler=RequestRootsOnly(configured), shutdown_on_exit=False
    )
    provider.add_span_processor(RouteToChildSpansProcessor())
    exporter = exporter if exporter is not None else exporter_from_environment()
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


# Request attributes that OTEL_PYTHON_DJANGO_TRACED_REQUEST_ATTRS could name and that hold
# credentials or bodies as a whole (their str() is the dict or the raw bytes): never exported.
REQUEST_OBJECT_ATTRIBUTES = frozenset(
    {"cookies", "meta", "session", "body", "post", "data", "files", "headers", "auth"}
)


def _scrub_attributes(attributes) -> dict:
    scrubbed = {}
    for key, value in (attributes or {}).items():
        name = key.rsplit(".", 1)[-1]
        if key == "url.query" and isinstance(value, str):
            scrubbed[key] = scrubbing.scrub_query_string(value)
        elif name.lower() in REQUEST_OBJECT_ATTRIBUTES or scrubbing.is_sensitive_key(name):
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
