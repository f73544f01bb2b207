"""Does observability really work? Small checks, one per concern, each giving pass/warn/fail
with a one-line hint. `manage.py check_observability` runs them all; the production mistakes
are also Django system checks (tag `observability`, see `manage.py check --deploy`).

No check prints a secret: DSNs are shown without their key, tokens only as "set".

What lives where:

- `base.py`: the `Finding` every check returns, PASS/WARN/FAIL, `production()`, the network
  probes (`tcp_reachable`, `http_ok`) and the middleware names the checks look for.
- `settings.py`: DEBUG, the secret key, ALLOWED_HOSTS, the static files storage.
- `logging.py`: the log formatter, context filter and schema; CorrelationIdMiddleware's place.
- `tracing.py`: OTEL_ENABLED, the sampler, the instrumentations, the OTLP exporter.
- `errors.py`: Sentry: the DSN, scrubbing, personal data, integrations, middleware.
- `metrics.py`: the Prometheus middleware, /metrics and its token, multiprocess, families.
- `stack.py`: the bundled stack's ready endpoints.
- `runner.py`: `CHECKS` (areas in report order), `register()` for the apps' areas,
  `run_all()` and `render_json()`.
- `system.py`: the Django system checks, registered when the package is imported.

The apps register areas of their own from their AppConfig.ready() with `checks.register(area,
check)`: health adds "health" and "database" (health/findings.py: the ready checks and URLs;
the database, migrations and pool), so observability imports nothing of the apps.

This module re-exports the public names, so `from observability import checks` and
`checks.run_all(...)` work as they did. To replace a helper in a test, patch it on the module
that calls it (e.g. `observability.checks.tracing.active_instrumentations`).
"""

from observability.checks.base import (
    ACCESS_LOG,
    CORRELATION,
    FAIL,
    NETWORK_TIMEOUT_SECONDS,
    PASS,
    PROMETHEUS_AFTER,
    PROMETHEUS_BEFORE,
    SENTRY_REQUEST,
    TRACING_MODULE,
    WARN,
    Finding,
    http_ok,
    production,
    tcp_reachable,
)
from observability.checks.errors import check_errors, check_sentry_integrations, redacted_dsn
from observability.checks.logging import check_correlation, check_logging
from observability.checks.metrics import check_metrics
from observability.checks.runner import CHECKS, register, render_json, run_all
from observability.checks.settings import check_settings, static_files_finding
from observability.checks.stack import check_stack, stack_urls
from observability.checks.system import (
    correlation_middleware_check,
    production_observability_check,
    sentry_dsn_check,
)
from observability.checks.tracing import (
    active_instrumentations,
    check_instrumentations,
    check_tracing,
    sampler_description,
)

__all__ = [
    "ACCESS_LOG",
    "CHECKS",
    "CORRELATION",
    "FAIL",
    "NETWORK_TIMEOUT_SECONDS",
    "PASS",
    "PROMETHEUS_AFTER",
    "PROMETHEUS_BEFORE",
    "SENTRY_REQUEST",
    "TRACING_MODULE",
    "WARN",
    "Finding",
    "active_instrumentations",
    "check_correlation",
    "check_errors",
    "check_instrumentations",
    "check_logging",
    "check_metrics",
    "check_sentry_integrations",
    "check_settings",
    "check_stack",
    "check_tracing",
    "correlation_middleware_check",
    "http_ok",
    "production",
    "production_observability_check",
    "redacted_dsn",
    "register",
    "render_json",
    "run_all",
    "sampler_description",
    "sentry_dsn_check",
    "stack_urls",
    "static_files_finding",
    "tcp_reachable",
]
