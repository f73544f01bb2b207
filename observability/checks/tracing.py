"""Tracing findings: OTEL_ENABLED, the sampler, the active instrumentations, a second
PostgreSQL driver, and whether the OTLP exporter's endpoint can be reached."""

from django.conf import settings

from observability.checks.base import FAIL, PASS, WARN, Finding, production, tcp_reachable


def sampler_description() -> tuple[str, float]:
    """The configured sampler (settings.OTEL_TRACES_SAMPLER, _ARG) and the share it keeps."""
    name = settings.OTEL_TRACES_SAMPLER
    ratio = 1.0
    if "traceidratio" in name:
        try:
            ratio = float(settings.OTEL_TRACES_SAMPLER_ARG)
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
    # DjangoInstrumentor counts itself instrumented even when its own switch made it do
    # nothing (BaseInstrumentor.instrument() marks it before _instrument() returns early).
    switched_off = settings.OTEL_PYTHON_DJANGO_INSTRUMENT == "False"
    if switched_off:
        active["opentelemetry.instrumentation.django"] = False
    found = [
        Finding("tracing", "instrumentation", PASS, ", ".join(s for s, on in active.items() if on))
    ] if any(active.values()) else []  # fmt: skip
    # The settings list the Django instrumentation's middleware (when OTEL_TRACE_REQUESTS);
    # DjangoInstrumentor configures it. One without the other is a broken set-up.
    listed = settings.OTEL_DJANGO_MIDDLEWARE in settings.MIDDLEWARE
    configured = active["opentelemetry.instrumentation.django"]
    if listed and not configured:
        found.append(
            Finding(
                "tracing",
                "django middleware",
                FAIL,
                "the tracing middleware is in MIDDLEWARE but not configured: requests fail",
                "The observability app instruments at start-up when tracing is on "
                "(ObservabilityConfig.ready()): keep it in INSTALLED_APPS.",
            )
        )
    elif configured and not listed:
        found.append(
            Finding(
                "tracing",
                "django middleware",
                WARN,
                "the Django instrumentation is active but its middleware is not in MIDDLEWARE: "
                "no server spans",
                "MIDDLEWARE lists it when OTEL_TRACE_REQUESTS (settings/middleware.py).",
            )
        )
    if switched_off:
        found.append(
            Finding(
                "tracing",
                "django instrumentation",
                WARN,
                "OTEL_PYTHON_DJANGO_INSTRUMENT is False: no request is traced, and query spans "
                "are kept only inside a request's trace, so no span is sent",
                "Unset OTEL_PYTHON_DJANGO_INSTRUMENT to trace requests.",
            )
        )
    elif not active["opentelemetry.instrumentation.django"]:
        found.append(
            Finding(
                "tracing",
                "django instrumentation",
                WARN,
                "opentelemetry-instrumentation-django is not active: no server spans",
                "The observability app instruments at start-up when tracing is on "
                "(ObservabilityConfig.ready()): keep it in INSTALLED_APPS.",
            )
        )
    if not active["opentelemetry.instrumentation.psycopg"]:
        found.append(
            Finding(
                "tracing",
                "psycopg instrumentation",
                WARN,
                "opentelemetry-instrumentation-psycopg is not active: no query spans",
                "The observability app instruments at start-up when tracing is on "
                "(ObservabilityConfig.ready()): keep it in INSTALLED_APPS.",
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
    endpoint = settings.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or settings.OTEL_EXPORTER_OTLP_ENDPOINT
    kind = settings.OTEL_TRACES_EXPORTER
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
                f"{kind}: spans are not sent to a collector",
                "Set OTEL_EXPORTER_OTLP_ENDPOINT to the collector.",
            )
        )
    return found
