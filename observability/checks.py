"""Does observability really work? Small checks, one per concern, each giving pass/warn/fail
with a one-line hint. `manage.py check_observability` runs them all; the production mistakes
are also Django system checks (tag `observability`, see `manage.py check --deploy`).

No check prints a secret: DSNs are shown without their key, tokens only as "set".
"""

import dataclasses
import io
import json
import logging
import os
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks as django_checks
from django.core.exceptions import ImproperlyConfigured

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


# --- settings, logging, correlation ----------------------------------------------------------


def check_settings() -> list[Finding]:
    found = []
    env = settings.DJANGO_ENV
    if settings.DEBUG and env != "development":
        found.append(
            Finding(
                "settings",
                "debug",
                FAIL,
                f"DEBUG is on in {env!r}",
                "Set DJANGO_DEBUG=false outside development.",
            )
        )
    else:
        found.append(Finding("settings", "debug", PASS, f"DEBUG={settings.DEBUG} in {env!r}"))
    try:
        secret_key = settings.SECRET_KEY
    except ImproperlyConfigured:  # Django refuses an empty key on access
        secret_key = ""
    if not secret_key:
        found.append(
            Finding(
                "settings",
                "secret key",
                FAIL,
                "DJANGO_SECRET_KEY is not set: the app refuses to serve",
                settings.SECRET_KEY_MISSING,
            )
        )
    elif production() and len(secret_key) < 32:
        found.append(
            Finding(
                "settings",
                "secret key",
                WARN,
                "secret key shorter than 32 chars",
                "Use a long random DJANGO_SECRET_KEY.",
            )
        )
    else:
        found.append(Finding("settings", "secret key", PASS, "set"))
    hosts = settings.ALLOWED_HOSTS
    if production() and "*" in hosts:
        found.append(
            Finding(
                "settings",
                "allowed hosts",
                WARN,
                "'*' accepts any Host header",
                "List the real host names in DJANGO_ALLOWED_HOSTS.",
            )
        )
    elif production() and not hosts:
        found.append(
            Finding(
                "settings",
                "allowed hosts",
                FAIL,
                "empty: every request gets 400",
                "Set DJANGO_ALLOWED_HOSTS.",
            )
        )
    else:
        found.append(Finding("settings", "allowed hosts", PASS, ", ".join(hosts) or "(debug)"))
    found.append(static_files_finding())
    return found


def static_files_finding() -> Finding:
    """The static storage DJANGO_STATIC_MANIFEST chose, and whether collectstatic ran for it."""
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if settings.STATIC_MANIFEST and not manifest.is_file():
        return Finding(
            "settings",
            "static files",
            FAIL,
            f"DJANGO_STATIC_MANIFEST is on but {manifest} is missing: pages fail to render",
            "Run `manage.py collectstatic --noinput` with the same settings (the image does).",
        )
    if settings.STATIC_MANIFEST:
        return Finding("settings", "static files", PASS, f"hashed and compressed, {manifest}")
    if production():
        return Finding(
            "settings",
            "static files",
            WARN,
            "served from the apps: unhashed names cached 60 s, nothing precompressed",
            "Set DJANGO_STATIC_MANIFEST=true and run collectstatic (the container image does).",
        )
    return Finding("settings", "static files", PASS, "served from the apps (development)")


def check_logging() -> list[Finding]:
    from observability.logging import SCHEMA_FIELDS, ContextFilter, JsonFormatter, TextFormatter

    handlers = logging.getLogger().handlers
    formatters = [handler.formatter for handler in handlers]
    if not any(isinstance(f, JsonFormatter | TextFormatter) for f in formatters):
        return [
            Finding(
                "logging",
                "formatter",
                FAIL,
                "the root logger has no project formatter",
                "Keep settings.LOGGING's stdout handler (observability/logging.py).",
            )
        ]
    found = []
    handler = next(h for h in handlers if isinstance(h.formatter, JsonFormatter | TextFormatter))
    if isinstance(handler.formatter, TextFormatter):
        status = WARN if production() else PASS
        found.append(
            Finding(
                "logging",
                "format",
                status,
                "text lines (LOG_FORMAT=text)",
                "Use LOG_FORMAT=json in production: Loki parses JSON.",
            )
        )
    else:
        found.append(Finding("logging", "format", PASS, "JSON lines on stdout"))
    if not any(isinstance(f, ContextFilter) for f in handler.filters):
        found.append(
            Finding(
                "logging",
                "context",
                FAIL,
                "no ContextFilter on the handler",
                "Add the 'context' filter: lines would lack correlation/trace IDs.",
            )
        )
        return found
    record = logging.makeLogRecord(
        {
            "name": "check_observability",
            "levelname": "INFO",
            "levelno": logging.INFO,
            "msg": "sample",
        }
    )
    handler.filter(record)
    rendered = handler.format(record)
    if isinstance(handler.formatter, JsonFormatter):
        missing = [field for field in SCHEMA_FIELDS if field not in json.loads(rendered)]
        if missing:
            found.append(
                Finding(
                    "logging",
                    "schema",
                    FAIL,
                    f"missing {', '.join(missing)}",
                    "Restore observability.logging.JsonFormatter.",
                )
            )
            return found
    found.append(Finding("logging", "schema", PASS, "a sample record renders every field"))
    return found


def check_correlation() -> list[Finding]:
    middleware = list(settings.MIDDLEWARE)
    if CORRELATION not in middleware:
        return [
            Finding(
                "correlation",
                "middleware",
                FAIL,
                "CorrelationIdMiddleware missing",
                f"Add {CORRELATION} near the top of MIDDLEWARE.",
            )
        ]
    position = middleware.index(CORRELATION)
    loggers_before = [
        m
        for m in middleware[:position]
        if m not in (PROMETHEUS_BEFORE, SENTRY_REQUEST) and not m.startswith(TRACING_MODULE)
    ]
    if loggers_before or (ACCESS_LOG in middleware and middleware.index(ACCESS_LOG) < position):
        return [
            Finding(
                "correlation",
                "middleware",
                FAIL,
                f"runs after {', '.join(loggers_before) or ACCESS_LOG}",
                "Move CorrelationIdMiddleware before every middleware that logs.",
            )
        ]
    return [Finding("correlation", "middleware", PASS, f"installed, position {position + 1}")]


# --- tracing and errors -----------------------------------------------------------------------


def sampler_description() -> tuple[str, float]:
    name = os.environ.get("OTEL_TRACES_SAMPLER", "parentbased_always_on").strip().lower()
    ratio = 1.0
    if "traceidratio" in name:
        try:
            ratio = float(os.environ.get("OTEL_TRACES_SAMPLER_ARG", "1.0"))
        except ValueError:
            ratio = 1.0
    elif name in {"always_off", "parentbased_always_off"}:
        ratio = 0.0
    return name, ratio


def active_instrumentations() -> dict[str, bool]:
    """Each instrumentation we rely on, by its scope name (the name its spans carry)."""
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

    instrumentors = {
        "opentelemetry.instrumentation.django": DjangoInstrumentor(),
        "opentelemetry.instrumentation.psycopg": PsycopgInstrumentor(),
    }
    return {scope: i.is_instrumented_by_opentelemetry for scope, i in instrumentors.items()}


def check_instrumentations() -> list[Finding]:
    active = active_instrumentations()
    found = [
        Finding("tracing", "instrumentation", PASS, ", ".join(s for s, on in active.items() if on))
    ] if any(active.values()) else []  # fmt: skip
    if not active["opentelemetry.instrumentation.django"]:
        found.append(
            Finding(
                "tracing",
                "django instrumentation",
                WARN,
                "opentelemetry-instrumentation-django is not active: no server spans",
                "Start through intelliflow.wsgi/asgi or manage.py (they call "
                "tracing.setup_for_process()), or check OTEL_PYTHON_DJANGO_INSTRUMENT.",
            )
        )
    if not active["opentelemetry.instrumentation.psycopg"]:
        found.append(
            Finding(
                "tracing",
                "psycopg instrumentation",
                WARN,
                "opentelemetry-instrumentation-psycopg is not active: no query spans",
                "Start through intelliflow.wsgi/asgi or manage.py.",
            )
        )
    return found


def check_tracing() -> list[Finding]:
    if not settings.OTEL_ENABLED:
        status = WARN if production() else PASS
        return [
            Finding(
                "tracing",
                "enabled",
                status,
                "tracing is off (OTEL_ENABLED)",
                "Set OTEL_ENABLED=true and OTEL_EXPORTER_OTLP_ENDPOINT.",
            )
        ]
    found = [Finding("tracing", "enabled", PASS, "on")]
    name, ratio = sampler_description()
    if production() and ratio >= 1.0:
        found.append(
            Finding(
                "tracing",
                "sampler",
                WARN,
                f"{name}: every trace sampled",
                "In production use parentbased_traceidratio with e.g. 0.1.",
            )
        )
    else:
        found.append(Finding("tracing", "sampler", PASS, f"{name} ({ratio:.0%})"))
    found += check_instrumentations()
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        pass
    else:
        found.append(
            Finding(
                "tracing",
                "driver",
                WARN,
                "psycopg2 is installed as well",
                "Django uses psycopg 3 here; remove psycopg2 to avoid confusion.",
            )
        )
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    kind = os.environ.get("OTEL_TRACES_EXPORTER", "otlp" if endpoint else "none")
    if kind == "otlp" and endpoint:
        problem = tcp_reachable(endpoint)
        if problem:
            found.append(
                Finding(
                    "tracing",
                    "exporter",
                    FAIL,
                    f"OTLP endpoint: {problem}",
                    "Start the collector or fix OTEL_EXPORTER_OTLP_ENDPOINT.",
                )
            )
        else:
            found.append(Finding("tracing", "exporter", PASS, f"otlp → {endpoint} reachable"))
    else:
        found.append(
            Finding(
                "tracing",
                "exporter",
                WARN if production() else PASS,
                f"{kind}: spans are not sent anywhere",
                "Set OTEL_EXPORTER_OTLP_ENDPOINT to the collector.",
            )
        )
    return found


def redacted_dsn(dsn: str) -> str:
    parts = urlsplit(dsn)
    return f"{parts.scheme}://***@{parts.hostname}{parts.path}" if parts.hostname else "(invalid)"


def check_errors() -> list[Finding]:
    import sentry_sdk
    from sentry_sdk.utils import BadDsn, Dsn

    from observability.errors import scrub_event

    if not settings.SENTRY_ENABLED:
        status = WARN if production() else PASS
        return [
            Finding(
                "errors",
                "sentry",
                status,
                "Sentry is off (SENTRY_ENABLED)",
                "Set SENTRY_ENABLED=true and SENTRY_DSN to report errors.",
            )
        ]
    if not settings.SENTRY_DSN:
        return [
            Finding(
                "errors",
                "sentry",
                FAIL,
                "SENTRY_ENABLED without SENTRY_DSN",
                "Set SENTRY_DSN, or SENTRY_ENABLED=false.",
            )
        ]
    try:
        Dsn(settings.SENTRY_DSN)
    except BadDsn:
        return [
            Finding(
                "errors",
                "dsn",
                FAIL,
                "SENTRY_DSN is not a valid DSN",
                "Copy the DSN from Sentry's project settings.",
            )
        ]
    found = [Finding("errors", "dsn", PASS, redacted_dsn(settings.SENTRY_DSN))]
    options = sentry_sdk.get_client().options
    if options.get("before_send") is not scrub_event:
        found.append(
            Finding(
                "errors",
                "scrubbing",
                FAIL,
                "before_send is not scrub_event",
                "Initialise Sentry through observability.errors.",
            )
        )
    else:
        found.append(Finding("errors", "scrubbing", PASS, "before_send/breadcrumb scrub"))
    collection = options.get("data_collection") or {}
    if collection.get("user_info") or options.get("send_default_pii"):
        found.append(
            Finding(
                "errors",
                "personal data",
                FAIL,
                "user data is collected",
                "Keep data_collection.user_info off.",
            )
        )
    else:
        found.append(Finding("errors", "personal data", PASS, "not collected"))
    return found + check_sentry_integrations()


def check_sentry_integrations() -> list[Finding]:
    """What the running Sentry client really has: integrations, the traces rate, and its
    middleware where it shares the OTel trace."""
    import sentry_sdk

    from observability import errors

    client = sentry_sdk.get_client()
    installed = sorted(client.integrations)
    found = []
    if set(installed) != set(errors.INTEGRATIONS):
        found.append(
            Finding(
                "errors",
                "integrations",
                WARN,
                f"installed {installed}, expected {sorted(errors.INTEGRATIONS)}",
                "Initialise Sentry through observability.errors.configure_error_reporting().",
            )
        )
    else:
        found.append(Finding("errors", "integrations", PASS, ", ".join(installed)))
    rate = client.options.get("traces_sample_rate")
    found.append(
        Finding(
            "errors",
            "performance",
            PASS,
            f"transactions at {rate:.0%} of requests, in the OTel trace"
            if rate
            else "errors only (SENTRY_TRACES_SAMPLE_RATE=0)",
        )
    )
    if errors.MIDDLEWARE not in settings.MIDDLEWARE:
        found.append(
            Finding(
                "errors",
                "middleware",
                FAIL,
                f"{errors.MIDDLEWARE} is not in MIDDLEWARE: no per-request scope",
                "Keep it first in settings.MIDDLEWARE.",
            )
        )
    return found


# --- metrics, health, database ------------------------------------------------------------------


def check_metrics() -> list[Finding]:
    from django.test import Client
    from prometheus_client import REGISTRY

    found = []
    middleware = list(settings.MIDDLEWARE)
    ordered = (
        PROMETHEUS_BEFORE in middleware
        and PROMETHEUS_AFTER in middleware
        and middleware.index(PROMETHEUS_BEFORE) < middleware.index(PROMETHEUS_AFTER)
        and middleware[-1] == PROMETHEUS_AFTER
    )
    if not ordered:
        found.append(
            Finding(
                "metrics",
                "middleware",
                FAIL,
                "Prometheus middleware misplaced",
                "PrometheusBeforeMiddleware first, PrometheusAfterMiddleware last.",
            )
        )
    else:
        found.append(Finding("metrics", "middleware", PASS, "before first, after last"))
    headers = (
        {"HTTP_AUTHORIZATION": f"Bearer {settings.METRICS_TOKEN}"} if settings.METRICS_TOKEN else {}
    )
    # As a real client would ask, with a Host the app accepts (the test client's "testserver"
    # is refused wherever ALLOWED_HOSTS is set properly).
    allowed = [h.lstrip(".") for h in settings.ALLOWED_HOSTS if h not in ("*", "")]
    response = (
        Client(raise_request_exception=False, HTTP_HOST=allowed[0]).get("/metrics", **headers)
        if allowed
        else None
    )
    if response is None:
        found.append(
            Finding(
                "metrics",
                "/metrics",
                WARN,
                "not checked: no allowed host to ask with",
                "Set DJANGO_ALLOWED_HOSTS.",
            )
        )
    elif response.status_code != 200 or b"django_http" not in response.content:
        found.append(
            Finding(
                "metrics",
                "/metrics",
                FAIL,
                f"HTTP {response.status_code}",
                "Check the metrics route and METRICS_TOKEN.",
            )
        )
    else:
        found.append(Finding("metrics", "/metrics", PASS, f"{len(response.content)} bytes"))
    if production() and not settings.METRICS_TOKEN:
        found.append(
            Finding(
                "metrics",
                "access",
                WARN,
                "/metrics is open to anyone",
                "Set METRICS_TOKEN and give Prometheus the same bearer token.",
            )
        )
    else:
        found.append(
            Finding(
                "metrics",
                "access",
                PASS,
                "token set" if settings.METRICS_TOKEN else "open (development)",
            )
        )
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory and not os.access(directory, os.W_OK):
        found.append(
            Finding(
                "metrics",
                "multiprocess",
                FAIL,
                f"{directory} not writable",
                "Make PROMETHEUS_MULTIPROC_DIR writable by the workers.",
            )
        )
    else:
        found.append(
            Finding(
                "metrics",
                "multiprocess",
                PASS,
                directory or "single process (gunicorn.conf.py prepares a directory)",
            )
        )
    names = set()
    for family in REGISTRY.collect():  # a counter's family name is without "_total"
        names.add(family.name)
        if family.type == "counter":
            names.add(f"{family.name}_total")
    expected = {
        "django_http_requests_latency_seconds_by_view_method",
        "intelliflow_leads_created_total",
        "intelliflow_db_pool_connections",
        "intelliflow_process_resident_memory_bytes",
    }
    missing = sorted(expected - names)
    if missing:
        found.append(
            Finding(
                "metrics",
                "families",
                FAIL,
                f"missing {', '.join(missing)}",
                "observability.metrics must be imported at start-up.",
            )
        )
    else:
        found.append(Finding("metrics", "families", PASS, f"{len(expected)} expected present"))
    return found


def _outcome_findings(area: str, outcomes) -> list[Finding]:
    findings = []
    for outcome in outcomes:
        values = ", ".join(
            f"{name}={obs.value}{obs.unit and ' ' + obs.unit}"
            for name, obs in outcome.observations.items()
        )
        name = " ".join([outcome.component, *outcome.observations][:2])
        findings.append(
            Finding(
                area,
                name,
                outcome.status,
                outcome.output or values or "ok",
                "" if outcome.status == PASS else "See /health/check.",
            )
        )
    return findings


def check_health() -> list[Finding]:
    from django.urls import NoReverseMatch, reverse

    from health import checks
    from health.reporting import overall_status, run_checks

    outcomes = run_checks(checks.ready_checks())
    status = overall_status(outcomes)
    found = [
        Finding(
            "health",
            "ready",
            status,
            "; ".join(o.output for o in outcomes if o.output) or "all ready checks pass",
            "" if status == PASS else "GET /health/ready shows which check fails.",
        )
    ]
    try:
        for name in ("health-ping", "health-alive", "health-ready", "health-check"):
            reverse(name)
    except NoReverseMatch as error:
        found.append(Finding("health", "urls", FAIL, str(error), "Include health.urls."))
    else:
        found.append(Finding("health", "urls", PASS, "ping, alive, ready, check resolve"))
    return found


def check_database() -> list[Finding]:
    from health import checks
    from health.reporting import run_checks

    return _outcome_findings(
        "database",
        run_checks([checks.DatabaseCheck(), checks.MigrationsCheck(), checks.DatabasePoolCheck()]),
    )


# --- the bundled stack ------------------------------------------------------------------------


def stack_urls() -> dict[str, str]:
    return dict(settings.OBSERVABILITY_STACK_URLS)


def check_stack() -> list[Finding]:
    urls = stack_urls()
    with ThreadPoolExecutor(len(urls)) as pool:
        problems = dict(zip(urls, pool.map(http_ok, urls.values()), strict=True))
    return [
        Finding(
            "stack",
            name,
            FAIL if problem else PASS,
            f"{urls[name]}: {problem}" if problem else f"{urls[name]} ready",
            f"Start it: docker compose up -d {name}; its log: docker compose logs {name}"
            if problem
            else "",
        )
        for name, problem in problems.items()
    ]


CHECKS = {
    "settings": check_settings,
    "logging": check_logging,
    "correlation": check_correlation,
    "tracing": check_tracing,
    "errors": check_errors,
    "metrics": check_metrics,
    "health": check_health,
    "database": check_database,
}


def run_all(*, stack: bool) -> list[Finding]:
    """Every check; the slow ones (network) run in parallel so the whole stays bounded."""
    selected = dict(CHECKS)
    if stack:
        selected["stack"] = check_stack
    with ThreadPoolExecutor(len(selected)) as pool:
        futures = [pool.submit(_guarded, area, check) for area, check in selected.items()]
        return [finding for future in futures for finding in future.result()]


def _guarded(area: str, check) -> list[Finding]:
    try:
        return check()
    except Exception as error:  # a broken check is a failed check, not a crashed command
        return [
            Finding(
                area,
                "check",
                FAIL,
                f"{type(error).__name__}: {error}",
                "This check itself failed; see the traceback with --traceback.",
            )
        ]
    finally:
        from django.db import connections

        connections.close_all()


# --- Django system checks (manage.py check [--deploy]) -----------------------------------------


@django_checks.register("observability")
def correlation_middleware_check(app_configs, **kwargs):
    (finding,) = check_correlation()
    if finding.status == FAIL:
        return [django_checks.Error(finding.detail, hint=finding.hint, id="observability.E004")]
    return []


@django_checks.register("observability")
def sentry_dsn_check(app_configs, **kwargs):
    if settings.SENTRY_ENABLED and not settings.SENTRY_DSN:
        return [
            django_checks.Error(
                "SENTRY_ENABLED is true but SENTRY_DSN is empty.",
                hint="Set SENTRY_DSN, or SENTRY_ENABLED=false.",
                id="observability.E001",
            )
        ]
    return []


@django_checks.register("observability", deploy=True)
def production_observability_check(app_configs, **kwargs):
    messages = []
    name, ratio = sampler_description()
    if settings.OTEL_ENABLED and ratio >= 1.0:
        messages.append(
            django_checks.Warning(
                f"Every trace is sampled ({name}).",
                hint="Use OTEL_TRACES_SAMPLER=parentbased_traceidratio and a ratio like 0.1.",
                id="observability.W002",
            )
        )
    if not settings.METRICS_TOKEN:
        messages.append(
            django_checks.Warning(
                "/metrics is open to anyone.", hint="Set METRICS_TOKEN.", id="observability.W003"
            )
        )
    if settings.LOG_FORMAT == "text":
        messages.append(
            django_checks.Warning(
                "LOG_FORMAT=text: log shippers expect JSON lines.",
                hint="Use LOG_FORMAT=json.",
                id="observability.W005",
            )
        )
    return messages


def render_json(findings: list[Finding], signals: dict | None = None) -> str:
    counts = {status: sum(f.status == status for f in findings) for status in (PASS, WARN, FAIL)}
    worst = FAIL if counts[FAIL] else WARN if counts[WARN] else PASS
    body = {
        "status": worst,
        "summary": counts,
        "checks": [dataclasses.asdict(finding) for finding in findings],
    }
    if signals is not None:
        body["signals"] = signals
    buffer = io.StringIO()
    json.dump(body, buffer, indent=2)
    return buffer.getvalue()
