"""Tracing (OpenTelemetry): whether requests and queries are traced, and where spans go.

The OpenTelemetry SDK and its instrumentations read their standard OTEL_* variables themselves,
as they document: the OTLP exporter its endpoint, headers and timeout (OTEL_EXPORTER_OTLP_*),
the TracerProvider its sampler (OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG), Resource.create
OTEL_RESOURCE_ATTRIBUTES, the Django instrumentation its own (OTEL_PYTHON_DJANGO_*). The ones
our own code decides with (whether requests are traced, which exporter, what the start-up line
and check_observability report) are read here, once; the code uses these settings and reads
none of them again.
"""

from intelliflow.settings.core import DEBUG
from intelliflow.settings.environment import env

# --- Tracing (OpenTelemetry) -------------------------------------------------------------------

# The OTEL_ENABLED switch (off unless set); the standard OTEL_SDK_DISABLED wins.
OTEL_SDK_DISABLED = env.bool("OTEL_SDK_DISABLED", default=False)
OTEL_ENABLED = env.bool("OTEL_ENABLED", default=False) and not OTEL_SDK_DISABLED
# The Django instrumentation's own off switch: exactly "False" leaves requests untraced (the
# instrumentation compares the string itself). Its middleware is then not listed in MIDDLEWARE,
# since nothing would set it up.
OTEL_PYTHON_DJANGO_INSTRUMENT = env.str("OTEL_PYTHON_DJANGO_INSTRUMENT", default="True")
# Requests are traced: opentelemetry-instrumentation-django's middleware is first in MIDDLEWARE
# (middleware.py), and observability.tracing.instrument() configures it.
OTEL_TRACE_REQUESTS = OTEL_ENABLED and OTEL_PYTHON_DJANGO_INSTRUMENT != "False"
# Requests the Django instrumentation does not trace: comma-separated regular expressions
# searched in the full URL (its documented variables; the generic one applies to every
# instrumentation). By default the probes and /metrics, which are frequent and uninteresting.
OTEL_PYTHON_DJANGO_EXCLUDED_URLS = env.str(
    "OTEL_PYTHON_DJANGO_EXCLUDED_URLS",
    default=env.str("OTEL_PYTHON_EXCLUDED_URLS", default=r"/health(/|\?|$),/metrics(/|\?|$)"),
)
# Stable HTTP and database attribute names (http.request.method, db.query.text, ...) unless
# the operator chooses otherwise. The instrumentations take this only from the environment
# variable of the same name: observability.tracing.instrument() hands them this value there
# before they read it.
OTEL_SEMCONV_STABILITY_OPT_IN = env.str("OTEL_SEMCONV_STABILITY_OPT_IN", default="http,database")

# Where spans go. OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT (`/v1/traces` appended), or to
# OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, which wins; the exporter reads both (and its
# headers and timeout) itself: here they decide the default exporter and what is reported.
OTEL_EXPORTER_OTLP_ENDPOINT = env.str("OTEL_EXPORTER_OTLP_ENDPOINT", default="")
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = env.str("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", default="")
# otlp, console (one JSON line per span on stdout) or none: by default otlp when an endpoint is
# set, else console in DEBUG (developers see their spans) and none in production.
OTEL_TRACES_EXPORTER = (
    env.str(
        "OTEL_TRACES_EXPORTER",
        default="otlp"
        if OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
        else ("console" if DEBUG else "none"),
    )
    .strip()
    .lower()
)
# The standard sampler and its argument, as the SDK's TracerProvider builds it from them;
# here for check_observability, which warns when production samples every trace.
OTEL_TRACES_SAMPLER = (
    env.str("OTEL_TRACES_SAMPLER", default="parentbased_always_on").strip().lower()
)
OTEL_TRACES_SAMPLER_ARG = env.str("OTEL_TRACES_SAMPLER_ARG", default="1.0")
