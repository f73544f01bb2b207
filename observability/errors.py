"""Sentry for errors only (OTel does tracing), linked to the OTel trace and scrubbed first.

`configure_error_reporting()` is called from settings.py when SENTRY_ENABLED and SENTRY_DSN
are both set.

Sentry's DjangoIntegration is deliberately not used: it wraps the WSGI handler, every
request's scope, DRF's authentication and every SQL query, which cost more CPU per request
than the rest of our observability together (bench/RESULTS.md). Nothing of that is needed
for errors only. An unhandled exception in a view is logged by Django on `django.request`
with its traceback, and the LoggingIntegration turns ERROR records into events: one per
500. `attach_request_context` then puts back, at event time only, what DjangoIntegration
would have added per request: the request (method, URL, safe headers, filtered query
string), the user's id, the route as transaction, the `correlation_id` tag and the OTel
trace ID (that record is written after the server span ended, so the request carries it).
Logging breadcrumbs are off: with no per-request scope they would mix requests.

Before anything is sent, `scrub_event` removes credentials and lead personal data from
request headers, bodies and query strings, extras, frame variables and exception messages.
"""

import logging

import sentry_sdk
from opentelemetry import trace
from opentelemetry.trace import format_span_id, format_trace_id
from sentry_sdk.integrations.atexit import AtexitIntegration
from sentry_sdk.integrations.dedupe import DedupeIntegration
from sentry_sdk.integrations.excepthook import ExcepthookIntegration
from sentry_sdk.integrations.logging import LoggingIntegration
from sentry_sdk.integrations.modules import ModulesIntegration
from sentry_sdk.integrations.otlp import OTLPIntegration
from sentry_sdk.integrations.threading import ThreadingIntegration

from observability import scrubbing
from observability.correlation import correlation_id_var


def _request_of(hint: dict):
    record = hint.get("log_record")
    return getattr(record, "request", None) if record is not None else None


def attach_request_context(event: dict, hint: dict) -> dict:
    """What a per-request integration would have attached, computed once, for this event."""
    request = _request_of(hint)
    correlation_id = correlation_id_var.get() or getattr(request, "correlation_id", None)
    if correlation_id:
        event.setdefault("tags", {})["correlation_id"] = correlation_id
    if request is None:
        return event
    # django.request writes its record after the server span has ended: the link to the
    # trace comes from the span context the correlation middleware kept on the request.
    span_context = getattr(request, "span_context", None)
    current = trace.get_current_span().get_span_context()
    if not current.is_valid and span_context is not None and span_context.is_valid:
        event.setdefault("contexts", {})["trace"] = {
            "trace_id": format_trace_id(span_context.trace_id),
            "span_id": format_span_id(span_context.span_id),
        }
    match = getattr(request, "resolver_match", None)
    event["transaction"] = match.route if match and match.route else request.path
    try:
        url = f"{request.scheme}://{request.get_host()}{request.path}"
    except Exception:  # a DisallowedHost is itself often the error being reported
        url = request.path
    event["request"] = {
        "method": request.method,
        "url": url,
        "query_string": request.META.get("QUERY_STRING", ""),
        "headers": dict(request.headers),  # scrub_event filters credentials by key
    }
    user_id = _user_id(request)
    if user_id is not None:
        event["user"] = {"id": str(user_id)}
    return event


def _user_id(request):
    """Unlike the access log, an error is rare enough to resolve a session user for it."""
    try:
        user = getattr(request, "user", None)
        return user.pk if user is not None and user.is_authenticated else None
    except Exception:  # the database may be what failed
        return None


def scrub_event(event: dict, hint: dict) -> dict:
    """before_send / before_send_transaction: the last word on what leaves the process."""
    event = attach_request_context(event, hint)
    request = event.get("request")
    if isinstance(request, dict):
        if isinstance(request.get("query_string"), str):
            request["query_string"] = scrubbing.scrub_query_string(request["query_string"])
        if "data" in request and not isinstance(request["data"], dict):
            # A raw body (CSV, a JSON array) cannot be scrubbed field by field: drop it.
            request["data"] = scrubbing.FILTERED
        request.pop("cookies", None)
    return scrubbing.scrub(event)


def scrub_breadcrumb(crumb: dict, hint: dict) -> dict:
    return scrubbing.scrub(crumb)


def configure_error_reporting(
    *, dsn: str, environment: str, release: str, transport=None, **options
) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        # An explicit, short list: no auto-enabled Django/DRF/psycopg wrapping, and none of
        # the stdlib patching (http.client breadcrumbs would record every OTLP export).
        default_integrations=False,
        auto_enabling_integrations=False,
        integrations=[
            LoggingIntegration(level=None, event_level=logging.ERROR, sentry_logs_level=None),
            ExcepthookIntegration(),
            DedupeIntegration(),
            AtexitIntegration(),
            ModulesIntegration(),
            ThreadingIntegration(),
            OTLPIntegration(setup_otlp_traces_exporter=False, setup_propagator=False),
        ],
        traces_sample_rate=None,  # errors only: no Sentry transactions
        # What the integrations collect at all (supersedes send_default_pii); scrub_event then
        # filters what is collected, by key and by value, recursively.
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_headers": {
                "request": {"mode": "denylist", "terms": sorted(scrubbing.SENSITIVE_KEYS)}
            },
            "url_query_params": {
                "mode": "allowlist",
                "terms": sorted(scrubbing.SAFE_QUERY_PARAMETERS),
            },
            "database_query_data": False,
            "gen_ai": {"inputs": False, "outputs": False},
        },
        before_send=scrub_event,
        before_send_transaction=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
        transport=transport,
        **options,
    )


def flush_errors(timeout_seconds: float = 1.0) -> None:
    """Send what is queued before a worker exits, without waiting longer than the timeout."""
    sentry_sdk.flush(timeout=timeout_seconds)
