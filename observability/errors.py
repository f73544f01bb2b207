"""Sentry: errors, and at SENTRY_TRACES_SAMPLE_RATE transactions, in the OTel trace, scrubbed.

`configure_error_reporting()` is called from intelliflow/settings/errors.py when SENTRY_ENABLED
and SENTRY_DSN are both set. `SentryRequestMiddleware` is first in settings.MIDDLEWARE after
the Django instrumentation's (listed first when tracing), so it runs right inside the OTel
server span; with Sentry off it only asks whether the client is active.

One trace ID. Sentry's DjangoIntegration starts its transaction around the whole WSGI
handler, before the OTel server span exists, with a trace ID of its own (it continues only
Sentry's `sentry-trace` header). So it starts none here (`http_methods_to_capture=()`) and
keeps the rest: one isolation scope per request (breadcrumbs per request), the unhandled
exception as one event (`got_request_exception`; it ignores the `django.request` logger, so
the ERROR line Django writes for the same 500 is no second event), the request on the event.
`SentryRequestMiddleware` starts the request's transaction *as* the OTel server span: the
same trace ID, span ID and parent (sentry_sdk.start_transaction(trace_id=..., span_id=...),
the SDK's public Transaction arguments), so events inside it carry that trace context
(Scope.get_trace_context returns the active span's). Outside a transaction (rate 0, or a log
record after the request) OTLPIntegration's `otel_propagation_context`, registered with
`sentry_sdk.scope.register_external_propagation_context`, gives events the current OTel span.

Sampling. Sentry decides `sample_rand < traces_sample_rate`; the middleware hands Sentry a
`sample_rand` made from the OTel trace ID the way OTel's TraceIdRatioBased sampler decides
(low 64 bits / 2**64), so at equal rates Sentry keeps exactly the root traces Tempo keeps, and
at a lower Sentry rate a subset of them; the rate Sentry records stays the configured one.
Rate 0 means no transaction work at all (`traces_sample_rate=None`).

Cost (see `bench.instructions`): no middleware, signal, cache or DB-transaction spans, no
session tracking, no request bodies; the access log is no breadcrumb (it is written after the
request's error). Breadcrumbs (one per SQL query, one per log line) are kept as recorded and
scrubbed only when an event carrying them is sent: a `before_breadcrumb` scrubbing each one
cost 4-5 % of a request's instructions at rate 0, for breadcrumbs almost never sent (Sentry
attaches them to error events only, never to transactions). Before anything is sent,
`scrub_event` removes credentials and lead personal data from events *and* transactions
(request, spans, breadcrumbs, frame variables, messages), and keeps only the user's ID.
"""

import logging
import weakref

import sentry_sdk
from django.conf import settings
from opentelemetry import trace
from opentelemetry.trace import format_span_id, format_trace_id
from sentry_sdk.integrations.atexit import AtexitIntegration
from sentry_sdk.integrations.dedupe import DedupeIntegration
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.integrations.excepthook import ExcepthookIntegration
from sentry_sdk.integrations.logging import LoggingIntegration, ignore_logger
from sentry_sdk.integrations.modules import ModulesIntegration
from sentry_sdk.integrations.otlp import OTLPIntegration
from sentry_sdk.integrations.threading import ThreadingIntegration
from sentry_sdk.tracing_utils import Baggage

from common import compat
from observability import scrubbing
from observability.correlation import correlation_id_var, get_correlation_id

MIDDLEWARE = "observability.errors.SentryRequestMiddleware"
# The integrations configure_error_reporting installs, by Sentry identifier.
INTEGRATIONS = (
    "django",
    "logging",
    "excepthook",
    "dedupe",
    "atexit",
    "modules",
    "threading",
    "otlp",
)
# Written after the request's work is done: never a useful breadcrumb, and one per request.
NO_BREADCRUMB_LOGGERS = ("intelliflow.access",)

_LOW_64_BITS = (1 << 64) - 1
# Request headers Sentry collects: its built-in denylist always filters names containing
# "auth", "token", "secret", "password", "key", "csrf" or "session" (and Cookie); the extra
# terms are the sensitive keys none of those covers. Each term is matched against every
# header of every request (the headers are collected eagerly), so the full SENSITIVE_KEYS list
# cost per-request work for nothing; scrub_event filters every sensitive key again at send.
_ALWAYS_FILTERED = ("auth", "token", "secret", "password", "key", "csrf", "session")
HEADER_DENYLIST_TERMS = sorted(
    {
        spelling
        for key in scrubbing.SENSITIVE_KEYS
        if not any(term in key for term in _ALWAYS_FILTERED)
        for spelling in (key, key.replace("_", "-"))
    }
)


def sample_rand(trace_id: int) -> float:
    """The trace's position in [0, 1) as OTel's TraceIdRatioBased sampler sees it: it samples
    when `trace_id & (2**64 - 1) < round(rate * 2**64)`, Sentry when `sample_rand < rate`.
    Truncated to Sentry's 6 digits, the two agree for every rate of at most 6 decimals."""
    return ((trace_id & _LOW_64_BITS) * 1_000_000 >> 64) / 1_000_000


def _transaction_kwargs(request) -> dict:
    kwargs = {
        "op": "http.server",
        "name": request.path_info,
        "source": "url",
        "origin": DjangoIntegration.origin,
    }
    span = trace.get_current_span()
    context = span.get_span_context()
    if context.is_valid:  # valid whether or not OTel samples the request
        kwargs["trace_id"] = format_trace_id(context.trace_id)
        kwargs["span_id"] = format_span_id(context.span_id)
        parent = getattr(span, "parent", None)  # the SDK span's parent, remote or not
        if parent is not None and parent.is_valid:
            kwargs["parent_span_id"] = format_span_id(parent.span_id)
        kwargs["baggage"] = Baggage({"sample_rand": f"{sample_rand(context.trace_id):.6f}"})
    return kwargs


def _surely_unsampled(kwargs: dict, client) -> bool:
    """Sentry would start this transaction unsampled: its sample_rand (ours, from the OTel
    trace ID) is not below the rate (backpressure only lowers the rate). Then no transaction
    at all, only the client report Sentry would send for it; events in the request still get
    the OTel trace context (OTLPIntegration). An unsampled transaction and its child spans
    cost 1.2-1.8 % of a request's instructions at rate 0.1, 9 requests in 10."""
    baggage = kwargs.get("baggage")
    if baggage is None:  # no OTel trace: Sentry draws its own sample_rand
        return False
    # Strictly above: at equality Sentry compares a Decimal with the float rate; let it decide.
    if float(baggage.sentry_items["sample_rand"]) <= client.options["traces_sample_rate"]:
        return False
    if client.transport is not None:
        monitor = client.monitor
        reason = "backpressure" if monitor and monitor.downsample_factor > 0 else "sample_rate"
        client.transport.record_lost_event(reason, data_category="transaction")
        client.transport.record_lost_event(reason, data_category="span")
    return True


def _user_id(request, *, resolve: bool):
    """The authenticated user's primary key. An error resolves a session user not loaded yet
    (errors are rare); a transaction adds no query for it (compat.resolved_user only reads a
    user something already loaded)."""
    try:
        user = getattr(request, "user", None) if resolve else compat.resolved_user(request)
        return user.pk if user is not None and user.is_authenticated else None
    except Exception:  # the database may be what failed
        return None


def _user_id_processor(request_ref):
    def add_user_id(event: dict, hint: dict) -> dict:
        request = request_ref()
        if request is not None:
            user_id = _user_id(request, resolve=event.get("type") != "transaction")
            if user_id is not None:
                event["user"] = {"id": str(user_id)}
        return event

    return add_user_id


class SentryRequestMiddleware:
    """Per request, inside the OTel server span: the Sentry scope (correlation ID tag, user ID,
    route as transaction name, breadcrumbs of this request only) and, when Sentry tracing is
    on, the transaction that is the OTel server span."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        client = sentry_sdk.get_client()
        if not client.is_active():
            return self.get_response(request)
        # DjangoIntegration forks a scope per request around the WSGI handler; this fork also
        # isolates requests that come another way (the test client, a handler of one's own).
        with sentry_sdk.isolation_scope() as scope:
            scope.clear_breadcrumbs()
            scope.set_tag("correlation_id", get_correlation_id(request))
            scope.add_event_processor(_user_id_processor(weakref.ref(request)))
            if client.options["traces_sample_rate"] is None or request.path_info.startswith(
                settings.PROBE_PATH_PREFIXES
            ):
                return self.get_response(request)
            kwargs = _transaction_kwargs(request)
            if _surely_unsampled(kwargs, client):
                return self.get_response(request)
            with sentry_sdk.start_transaction(**kwargs) as transaction:
                response = self.get_response(request)
                transaction.set_http_status(response.status_code)
            return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        """The route template (OTel's http.route) names the transaction and the events."""
        match = request.resolver_match
        if match is not None and match.route:
            sentry_sdk.get_current_scope().set_transaction_name(match.route, source="route")


def scrub_event(event: dict, hint: dict) -> dict:
    """before_send / before_send_transaction: the last word on what leaves the process."""
    if "correlation_id" not in event.get("tags", {}):
        correlation_id = correlation_id_var.get()  # an event outside SentryRequestMiddleware
        if correlation_id:
            event.setdefault("tags", {})["correlation_id"] = correlation_id
    user = event.get("user")
    if isinstance(user, dict):  # the ID only: no e-mail, username or IP address
        if user.get("id") is None:
            event.pop("user")
        else:
            event["user"] = {"id": str(user["id"])}
    request = event.get("request")
    if isinstance(request, dict):
        if isinstance(request.get("query_string"), str):
            request["query_string"] = scrubbing.scrub_query_string(request["query_string"])
        if "data" in request and not isinstance(request["data"], dict):
            # A raw body (CSV, a JSON array) cannot be scrubbed field by field: drop it.
            request["data"] = scrubbing.FILTERED
        request.pop("cookies", None)
        request.pop("env", None)  # REMOTE_ADDR
    return scrubbing.scrub(event)


def configure_error_reporting(
    *,
    dsn: str,
    environment: str,
    release: str,
    traces_sample_rate: float = 0.0,
    transport=None,
    **options,
) -> None:
    for name in NO_BREADCRUMB_LOGGERS:
        ignore_logger(name)
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        # An explicit list: no auto-enabled integrations and none of the stdlib patching
        # (http.client breadcrumbs would record every OTLP export).
        default_integrations=False,
        auto_enabling_integrations=False,
        integrations=[
            DjangoIntegration(
                transaction_style="url",
                http_methods_to_capture=(),  # SentryRequestMiddleware starts the transaction
                middleware_spans=False,
                signals_spans=False,
                cache_spans=False,
                db_transaction_spans=False,
            ),
            LoggingIntegration(
                level=logging.INFO, event_level=logging.ERROR, sentry_logs_level=None
            ),
            ExcepthookIntegration(),
            DedupeIntegration(),
            AtexitIntegration(),
            ModulesIntegration(),
            ThreadingIntegration(),
            # Events outside a transaction take the current OTel span's trace context; OTel's
            # own exporter and W3C propagator stay as tracing.py sets them up.
            OTLPIntegration(setup_otlp_traces_exporter=False, setup_propagator=False),
        ],
        traces_sample_rate=traces_sample_rate or None,  # 0: no transaction work at all
        auto_session_tracking=False,
        # What the integrations collect at all (supersedes send_default_pii); scrub_event then
        # filters what is collected, by key and by value, recursively.
        data_collection={
            "user_info": False,  # SentryRequestMiddleware adds the user's ID, nothing else
            "cookies": {"mode": "off"},
            "http_headers": {"request": {"mode": "denylist", "terms": HEADER_DENYLIST_TERMS}},
            "http_bodies": [],
            "url_query_params": {
                "mode": "allowlist",
                "terms": sorted(scrubbing.SAFE_QUERY_PARAMETERS),
            },
            "database_query_data": False,
            "gen_ai": {"inputs": False, "outputs": False},
        },
        before_send=scrub_event,
        before_send_transaction=scrub_event,
        # No before_breadcrumb: scrub_event scrubs the breadcrumbs of the events that are sent.
        transport=transport,
        **options,
    )


def flush_errors(timeout_seconds: float = 1.0) -> None:
    """Send what is queued before a worker exits, without waiting longer than the timeout."""
    sentry_sdk.flush(timeout=timeout_seconds)
