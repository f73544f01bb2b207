"""The start-up lines say whether tracing and Sentry are on, where their data goes, or why not."""

import pytest

from observability import startup


@pytest.mark.parametrize(
    ("enabled", "sdk_disabled", "reason"),
    [(False, False, "OTEL_ENABLED is not true"), (False, True, "OTEL_SDK_DISABLED is true")],
)
def test_tracing_off_says_why(settings, enabled, sdk_disabled, reason):
    settings.OTEL_ENABLED, settings.OTEL_SDK_DISABLED = enabled, sdk_disabled
    (message,) = startup.tracing_summary()
    assert message == f"OpenTelemetry tracing is off: {reason}"


def test_tracing_on_with_the_django_instrumentation_switched_off_says_so(settings):
    settings.OTEL_ENABLED, settings.OTEL_SDK_DISABLED = True, False
    settings.OTEL_PYTHON_DJANGO_INSTRUMENT = "False"
    (message,) = startup.tracing_summary()
    assert message == "OpenTelemetry tracing is off: OTEL_PYTHON_DJANGO_INSTRUMENT is False"


def test_tracing_on_without_a_destination_says_spans_go_nowhere(settings):
    settings.OTEL_ENABLED, settings.OTEL_SDK_DISABLED, settings.DEBUG = True, False, False
    settings.OTEL_EXPORTER_OTLP_ENDPOINT = settings.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = ""
    settings.OTEL_TRACES_EXPORTER = "none"  # the production default without an endpoint
    message, *arguments = startup.tracing_summary()
    assert "nowhere" in message % tuple(arguments)


@pytest.mark.parametrize(
    ("enabled", "dsn", "expected"),
    [
        (False, "", "Sentry error reporting is off: SENTRY_ENABLED is not true"),
        (True, "", "Sentry error reporting is off: SENTRY_ENABLED is true but SENTRY_DSN is empty"),
        (True, "https://key@sentry.example/1", "Sentry error reporting initialized: host "
         "sentry.example, environment test, release r1, transactions at 10% of requests"),
    ],
)  # fmt: skip
def test_sentry_line(settings, enabled, dsn, expected):
    settings.SENTRY_ENABLED, settings.SENTRY_DSN = enabled, dsn
    settings.SENTRY_ENVIRONMENT, settings.SENTRY_RELEASE = "test", "r1"
    settings.SENTRY_TRACES_SAMPLE_RATE = 0.1
    message, *arguments = startup.sentry_summary()
    assert message % tuple(arguments) == expected
    assert "key@" not in message % tuple(arguments)


@pytest.mark.parametrize(
    ("endpoint", "traces_endpoint", "destination"),
    [
        ("http://collector:4318/", "", "OTLP/HTTP to http://collector:4318/v1/traces"),
        ("http://collector:4318", "http://tempo:4318/x", "OTLP/HTTP to http://tempo:4318/x"),
    ],
)
def test_tracing_on_names_the_endpoint_from_the_settings(
    settings, endpoint, traces_endpoint, destination
):
    settings.OTEL_ENABLED, settings.OTEL_SDK_DISABLED = True, False
    settings.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint
    settings.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = traces_endpoint
    settings.OTEL_TRACES_EXPORTER = "otlp"
    message, *arguments = startup.tracing_summary()
    assert destination in message % tuple(arguments)
