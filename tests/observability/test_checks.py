"""`manage.py check_observability` and the observability system checks: each check passes on a
good setup and warns or fails on a real misconfiguration."""

import http.server
import io
import json
import logging
import re
import socket
import time
from contextlib import contextmanager

import jsonschema
import pytest
import yaml
from django.core import checks as django_checks
from django.core.management import call_command
from django.core.management.base import CommandError

from health.findings import check_database, check_health
from observability import checks
from tests.observability.otlp import otlp_receiver
from tests.servers import ROOT, free_port, serving

pytestmark = pytest.mark.django_db

REPORT_SCHEMA = {
    "type": "object",
    "required": ["status", "summary", "checks"],
    "properties": {
        "status": {"enum": ["pass", "warn", "fail"]},
        "summary": {
            "type": "object",
            "required": ["pass", "warn", "fail"],
            "additionalProperties": {"type": "integer"},
        },
        "checks": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["area", "name", "status", "detail", "hint"],
                "properties": {"status": {"enum": ["pass", "warn", "fail"]}},
            },
        },
        "signals": {"type": "object"},
    },
}


def statuses(findings, name: str | None = None) -> set[str]:
    return {f.status for f in findings if name is None or f.name == name}


def run_command(*args) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("check_observability", *args, stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue()
    return 0, out.getvalue()


@contextmanager
def http_server(status: int = 200):
    """A local server answering every GET with `status`, for the stack's ready endpoints."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ready")

        def log_message(self, *args):
            pass

    with serving(Handler) as port:
        yield f"http://127.0.0.1:{port}"


class TestSettings:
    def test_production_settings_pass(self, settings, tmp_path):
        settings.SECRET_KEY = "k" * 50
        settings.STATIC_MANIFEST, settings.STATIC_ROOT = True, tmp_path
        (tmp_path / "staticfiles.json").write_text("{}")
        assert statuses(checks.check_settings()) == {"pass"}

    def test_static_files_from_the_apps_warn_in_production_and_a_missing_manifest_fails(
        self, settings, tmp_path
    ):
        settings.DEBUG, settings.STATIC_MANIFEST = False, False
        assert statuses(checks.check_settings(), "static files") == {"warn"}
        settings.STATIC_MANIFEST, settings.STATIC_ROOT = True, tmp_path
        assert statuses(checks.check_settings(), "static files") == {"fail"}
        settings.DEBUG, settings.STATIC_MANIFEST = True, False
        assert statuses(checks.check_settings(), "static files") == {"pass"}

    def test_debug_outside_development_fails(self, settings):
        settings.DEBUG, settings.DJANGO_ENV = True, "production"
        assert statuses(checks.check_settings(), "debug") == {"fail"}

    def test_wildcard_hosts_warn(self, settings):
        settings.ALLOWED_HOSTS = ["*"]
        assert statuses(checks.check_settings(), "allowed hosts") == {"warn"}


class TestLogging:
    def test_json_logging_passes(self):
        assert statuses(checks.check_logging()) == {"pass"}

    def test_a_plain_formatter_fails(self):
        handler = logging.getLogger().handlers[0]
        original = handler.formatter
        handler.setFormatter(logging.Formatter("%(message)s"))
        try:
            assert statuses(checks.check_logging()) == {"fail"}
        finally:
            handler.setFormatter(original)

    def test_missing_context_filter_fails(self):
        handler = logging.getLogger().handlers[0]
        original = list(handler.filters)
        handler.filters.clear()
        try:
            assert statuses(checks.check_logging(), "context") == {"fail"}
        finally:
            handler.filters[:] = original


class TestCorrelation:
    def test_installed_first_passes(self):
        assert statuses(checks.check_correlation()) == {"pass"}

    def test_missing_fails_and_is_a_system_check_error(self, settings):
        settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != checks.CORRELATION]
        assert statuses(checks.check_correlation()) == {"fail"}
        errors = checks.correlation_middleware_check(None)
        assert [e.id for e in errors] == ["observability.E004"]

    def test_after_a_logging_middleware_fails(self, settings):
        middleware = [m for m in settings.MIDDLEWARE if m != checks.CORRELATION]
        middleware.insert(middleware.index(checks.ACCESS_LOG) + 1, checks.CORRELATION)
        settings.MIDDLEWARE = middleware
        assert statuses(checks.check_correlation()) == {"fail"}


class TestTracing:
    def test_off_in_production_warns(self, settings):
        settings.OTEL_ENABLED = False
        assert statuses(checks.check_tracing()) == {"warn"}

    def test_closed_otlp_endpoint_fails_and_always_on_warns(self, settings, spans):
        settings.OTEL_ENABLED = True
        settings.OTEL_EXPORTER_OTLP_ENDPOINT = f"http://127.0.0.1:{free_port()}"
        settings.OTEL_TRACES_EXPORTER = "otlp"
        settings.OTEL_TRACES_SAMPLER = "always_on"
        findings = checks.check_tracing()
        assert statuses(findings, "exporter") == {"fail"}
        assert statuses(findings, "sampler") == {"warn"}
        assert statuses(findings, "instrumentation") == {"pass"}

    def test_reachable_endpoint_and_ratio_sampler_pass(self, settings, spans):
        settings.OTEL_ENABLED = True
        settings.OTEL_TRACES_SAMPLER = "parentbased_traceidratio"
        settings.OTEL_TRACES_SAMPLER_ARG = "0.1"
        with otlp_receiver() as (endpoint, _):
            settings.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint
            settings.OTEL_TRACES_EXPORTER = "otlp"
            assert statuses(checks.check_tracing()) == {"pass"}

    def test_active_instrumentations_are_reported_by_scope_name(self, settings, spans):
        settings.OTEL_ENABLED = True
        (finding,) = [f for f in checks.check_tracing() if f.name == "instrumentation"]
        assert finding.detail == (
            "opentelemetry.instrumentation.django, opentelemetry.instrumentation.psycopg"
        )

    def test_a_missing_django_instrumentation_warns(self, settings, monkeypatch):
        settings.OTEL_ENABLED = True
        monkeypatch.setattr(
            checks.tracing,
            "active_instrumentations",
            lambda: {
                "opentelemetry.instrumentation.django": False,
                "opentelemetry.instrumentation.psycopg": True,
            },
        )
        findings = checks.check_tracing()
        assert statuses(findings, "django instrumentation") == {"warn"}

    def test_the_django_instrumentations_own_switch_off_warns_that_nothing_is_traced(
        self, settings, spans
    ):
        # The instrumentor counts itself active even then (it was instrument()ed).
        settings.OTEL_ENABLED = True
        settings.OTEL_PYTHON_DJANGO_INSTRUMENT = "False"
        settings.MIDDLEWARE = [
            m for m in settings.MIDDLEWARE if m != settings.OTEL_DJANGO_MIDDLEWARE
        ]
        findings = checks.check_tracing()
        (warning,) = [f for f in findings if f.name == "django instrumentation"]
        assert warning.status == "warn"
        assert "no request is traced" in warning.detail
        (active,) = [f for f in findings if f.name == "instrumentation"]
        assert active.detail == "opentelemetry.instrumentation.psycopg"
        assert not [f for f in findings if f.name == "django middleware"]

    def test_full_sampling_is_a_deploy_warning(self, settings):
        settings.OTEL_ENABLED = True
        settings.OTEL_TRACES_SAMPLER = "parentbased_always_on"
        ids = [m.id for m in checks.production_observability_check(None)]
        assert "observability.W002" in ids


class TestErrors:
    def test_enabled_without_dsn_fails(self, settings):
        settings.SENTRY_ENABLED, settings.SENTRY_DSN = True, ""
        assert statuses(checks.check_errors()) == {"fail"}
        assert [e.id for e in checks.sentry_dsn_check(None)] == ["observability.E001"]

    def test_malformed_dsn_fails(self, settings):
        settings.SENTRY_ENABLED, settings.SENTRY_DSN = True, "not a dsn"
        assert statuses(checks.check_errors(), "dsn") == {"fail"}

    def test_configured_sentry_passes_without_showing_the_key(self, settings, sentry_transport):
        settings.SENTRY_ENABLED = True
        settings.SENTRY_DSN = "https://supersecretkey@sentry.invalid/1"
        findings = checks.check_errors()
        assert statuses(findings) == {"pass"}
        assert "supersecretkey" not in json.dumps([f.detail for f in findings])
        (integrations,) = [f for f in findings if f.name == "integrations"]
        assert "django" in integrations.detail
        assert "otlp" in integrations.detail
        (performance,) = [f for f in findings if f.name == "performance"]
        assert performance.detail == "errors only (SENTRY_TRACES_SAMPLE_RATE=0)"


class TestMetrics:
    def test_open_metrics_warn_in_production_and_pass_with_a_token(self, settings):
        assert statuses(checks.check_metrics(), "access") == {"warn"}
        settings.METRICS_TOKEN = "scrape"
        findings = checks.check_metrics()
        assert statuses(findings) == {"pass"}
        assert [m.id for m in checks.production_observability_check(None)] == []

    def test_misplaced_prometheus_middleware_fails(self, settings):
        middleware = list(settings.MIDDLEWARE)
        middleware.remove(checks.PROMETHEUS_AFTER)
        middleware.insert(1, checks.PROMETHEUS_AFTER)
        settings.MIDDLEWARE = middleware
        assert statuses(checks.check_metrics(), "middleware") == {"fail"}

    def test_unwritable_multiprocess_directory_fails(self, monkeypatch, tmp_path):
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(locked / "missing"))
        assert statuses(checks.check_metrics(), "multiprocess") == {"fail"}


class TestHealthAndDatabase:
    def test_the_apps_areas_are_reported_after_observabilitys_own(self):
        """health registers its two areas from HealthConfig.ready(); the stack comes last."""
        assert list(checks.CHECKS) == [
            "settings",
            "logging",
            "correlation",
            "tracing",
            "errors",
            "metrics",
            "health",
            "database",
        ]
        assert checks.CHECKS["health"] is check_health
        assert checks.CHECKS["database"] is check_database

    def test_ready_database_passes(self):
        assert statuses(check_health()) == {"pass"}
        assert statuses(check_database()) <= {"pass", "warn"}

    def test_a_budget_too_small_for_any_probe_fails(self, settings, monkeypatch):
        from health.checks import DatabaseCheck

        # An in-process SQLite probe can beat a microsecond's wait; a real server cannot.
        run = DatabaseCheck.run
        monkeypatch.setattr(DatabaseCheck, "run", lambda self: (time.sleep(0.05), run(self)))
        settings.HEALTH_CHECK_TIMEOUT_SECONDS = 0.000001
        assert statuses(check_health(), "ready") == {"fail"}
        assert "fail" in statuses(check_database())


class TestStack:
    def test_every_ready_endpoint_answering_passes(self, settings):
        with http_server() as url:
            settings.OBSERVABILITY_STACK_URLS = dict.fromkeys(
                ("otel-collector", "prometheus", "loki", "tempo", "grafana"), url
            )
            assert statuses(checks.check_stack()) == {"pass"}

    def test_down_and_unhealthy_endpoints_fail(self, settings):
        with http_server(503) as unhealthy:
            settings.OBSERVABILITY_STACK_URLS = {
                "otel-collector": f"http://127.0.0.1:{free_port()}/",
                "prometheus": unhealthy,
            }
            findings = checks.check_stack()
        assert statuses(findings) == {"fail"}
        assert any("HTTP 503" in f.detail for f in findings)

    def test_every_printed_command_names_a_real_compose_service(self, settings):
        """The hints print `docker compose up -d <name>` and `docker compose logs <name>`."""
        services = set(yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"])
        settings.OBSERVABILITY_STACK_URLS = {
            name: f"http://127.0.0.1:{free_port()}/" for name in settings.OBSERVABILITY_STACK_URLS
        }
        findings = checks.check_stack()
        assert {f.name for f in findings} <= services
        for finding in findings:
            for service in re.findall(r"docker compose (?:up -d|logs) ([\w-]+)", finding.hint):
                assert service in services, finding.hint


class TestCommand:
    def test_json_report_matches_its_schema_and_exits_0_without_failures(self, settings):
        settings.SECRET_KEY = "k" * 50
        code, output = run_command("--json")
        report = json.loads(output)
        jsonschema.validate(report, REPORT_SCHEMA)
        assert code == 0
        assert report["status"] == "warn"  # tracing and Sentry are off in the test settings
        assert report["summary"]["fail"] == 0

    def test_strict_turns_warnings_into_exit_1(self):
        assert run_command("--strict")[0] == 1

    def test_a_failure_exits_1_and_the_table_says_what_to_do(self, settings):
        settings.SENTRY_ENABLED, settings.SENTRY_DSN = True, ""
        code, output = run_command()
        assert code == 1
        assert "FAIL" in output
        assert "→ Set SENTRY_DSN" in output
        assert output.strip().splitlines()[-1].endswith(" s")

    def test_no_secret_in_any_output(self, settings, sentry_transport):
        settings.SENTRY_ENABLED = True
        settings.SENTRY_DSN = "https://supersecretkey@sentry.invalid/1"
        settings.METRICS_TOKEN = "metrics-secret-token"
        settings.HEALTH_TOKEN = "health-secret-token"
        outputs = run_command()[1] + run_command("--json")[1]
        for secret in ("supersecretkey", "metrics-secret-token", "health-secret-token"):
            assert secret not in outputs

    def test_send_test_signals_really_arrive(self, settings, monkeypatch, sentry_transport):
        with otlp_receiver() as (endpoint, received):
            # The OTLP exporter reads its endpoint from the environment itself (the SDK's
            # documented behaviour); the choice of exporter is the settings'.
            monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
            settings.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint
            settings.OTEL_TRACES_EXPORTER = "otlp"
            _code, output = run_command("--json", "--send-test-signals")
            spans = received.spans()
        signals = json.loads(output)["signals"]
        correlation_id = signals["correlation_id"]
        assert signals["span"]["status"] == "sent"
        (span,) = [s for _, s in spans if s.name == "check_observability test span"]
        attributes = {kv.key: kv.value.string_value for kv in span.attributes}
        assert attributes["intelliflow.correlation_id"] == correlation_id
        assert signals["sentry"]["status"] == "sent"
        (event,) = sentry_transport.events()
        assert event["event_id"] == signals["sentry"]["event_id"]
        assert event["tags"]["correlation_id"] == correlation_id
        assert signals["log"]["status"] == "sent"

    def test_bounded_in_time_with_every_endpoint_unreachable(self, settings):
        listeners = []
        for _ in range(3):  # accept connections, never answer
            listener = socket.socket()
            listener.bind(("127.0.0.1", 0))
            listener.listen(16)
            listeners.append(listener)
        stalled = [f"http://127.0.0.1:{s.getsockname()[1]}/" for s in listeners]
        settings.OBSERVABILITY_STACK_URLS = {
            "collector": stalled[0],
            "prometheus": stalled[1],
            "loki": stalled[2],
            "tempo": f"http://127.0.0.1:{free_port()}/ready",
            "grafana": f"http://127.0.0.1:{free_port()}/api/health",
        }
        settings.OTEL_ENABLED = True
        settings.OTEL_EXPORTER_OTLP_ENDPOINT = stalled[0]
        settings.OTEL_TRACES_EXPORTER = "otlp"
        started = time.monotonic()
        try:
            code, output = run_command("--stack", "--json")
        finally:
            for listener in listeners:
                listener.close()
        elapsed = time.monotonic() - started
        assert code == 1
        assert elapsed < 15, f"took {elapsed:.1f} s"
        failed = {c["name"] for c in json.loads(output)["checks"] if c["status"] == "fail"}
        assert {"collector", "prometheus", "loki", "tempo", "grafana"} <= failed


def test_system_checks_are_registered_under_the_observability_tag():
    assert "observability" in django_checks.registry.registry.tags_available(deployment_checks=True)
