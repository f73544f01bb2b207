"""Sentry for errors only (OTel does tracing), linked to the OTel trace and scrubbed first.

`configure_error_reporting()` is called from settings.py when SENTRY_ENABLED and SENTRY_DSN
are both set. Events carry the OTel trace ID (OTLPIntegration, with its own exporter and
propagator off so W3C trace context stays in charge) and the `correlation_id` tag set by the
correlation middleware. Before anything is sent, `scrub_event` removes credentials and lead
personal data from request headers, cookies, bodies and query strings, breadcrumbs, extras,
frame variables and exception messages.
"""

import sentry_sdk
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.integrations.otlp import OTLPIntegration

from observability import scrubbing


def scrub_event(event: dict, hint: dict) -> dict:
    """before_send / before_send_transaction: the last word on what leaves the process."""
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
        integrations=[
            DjangoIntegration(middleware_spans=False, signals_spans=False, cache_spans=False),
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
