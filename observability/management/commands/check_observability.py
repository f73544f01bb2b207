"""`manage.py check_observability`: does observability really work here, and if not, what to do.

Exit status 0 when nothing fails, 1 when something fails (`--strict`: warnings too).
`--json` for machines, `--stack` to probe the bundled stack's endpoints, `--send-test-signals`
to send one span, one Sentry event and one log line that can be found by their correlation ID.
"""

import logging
import sys
import time
import uuid

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from observability import checks
from observability.correlation import correlation_id_var

COLOURS = {checks.PASS: "\033[32m", checks.WARN: "\033[33m", checks.FAIL: "\033[31m"}
RESET = "\033[0m"
logger = logging.getLogger("intelliflow.check_observability")


def send_test_span(correlation_id: str) -> dict:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from observability import tracing

    exporter = tracing.exporter_from_environment()
    if exporter is None:
        return {"status": "skipped", "detail": "no exporter configured (OTEL_TRACES_EXPORTER)"}
    captured = InMemorySpanExporter()
    provider = TracerProvider(resource=tracing.build_resource(), shutdown_on_exit=False)
    provider.add_span_processor(SimpleSpanProcessor(captured))
    with provider.get_tracer("check_observability").start_as_current_span(
        "check_observability test span"
    ) as span:
        span.set_attribute("intelliflow.correlation_id", correlation_id)
        trace_id = format(span.get_span_context().trace_id, "032x")
    result = tracing.ScrubbingSpanExporter(exporter).export(captured.get_finished_spans())
    exporter.shutdown()
    ok = result == SpanExportResult.SUCCESS
    return {"status": "sent" if ok else "failed", "trace_id": trace_id, "detail": result.name}


def send_test_event(correlation_id: str) -> dict:
    import sentry_sdk

    if not sentry_sdk.get_client().dsn:
        return {"status": "skipped", "detail": "Sentry is not configured"}
    with sentry_sdk.new_scope() as scope:
        scope.set_tag("correlation_id", correlation_id)
        event_id = sentry_sdk.capture_message("check_observability test event", level="info")
    sentry_sdk.flush(timeout=2)
    return {"status": "sent" if event_id else "failed", "event_id": event_id}


def send_test_log(correlation_id: str) -> dict:
    token = correlation_id_var.set(correlation_id)
    try:
        logger.warning("check_observability test log line", extra={"test_signal": True})
    finally:
        correlation_id_var.reset(token)
    return {"status": "sent"}


class Command(BaseCommand):
    help = "Check that logging, tracing, errors, metrics, health and the stack really work."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="machine-readable output")
        parser.add_argument("--strict", action="store_true", help="warnings fail too")
        parser.add_argument("--stack", action="store_true", help="probe the bundled stack")
        parser.add_argument(
            "--send-test-signals",
            action="store_true",
            help="send a test span, Sentry event and log line",
        )

    def handle(self, *args, json, strict, stack, send_test_signals, **options):
        started = time.monotonic()
        findings = checks.run_all(stack=stack or settings.OBSERVABILITY_STACK_CONFIGURED)
        signals = None
        if send_test_signals:
            correlation_id = f"check-observability-{uuid.uuid4()}"
            signals = {
                "correlation_id": correlation_id,
                "span": send_test_span(correlation_id),
                "sentry": send_test_event(correlation_id),
                "log": send_test_log(correlation_id),
            }
        if json:
            self.stdout.write(checks.render_json(findings, signals))
        else:
            self._table(findings, signals, time.monotonic() - started)
        failing = {checks.FAIL, checks.WARN} if strict else {checks.FAIL}
        failed = any(f.status in failing for f in findings) or any(
            isinstance(s, dict) and s.get("status") == "failed" for s in (signals or {}).values()
        )
        if failed:
            raise CommandError("observability checks failed", returncode=1)

    def _table(self, findings, signals, seconds: float) -> None:
        colour = self.stdout.isatty() if hasattr(self.stdout, "isatty") else sys.stdout.isatty()
        width = max(len(f"{f.area} {f.name}") for f in findings)
        for finding in findings:
            label = f"{finding.area} {finding.name}".ljust(width)
            status = finding.status.upper().ljust(4)
            if colour:
                status = f"{COLOURS[finding.status]}{status}{RESET}"
            line = f"{status}  {label}  {finding.detail}"
            if finding.hint and finding.status != checks.PASS:
                line += f"\n      {' ' * width}  → {finding.hint}"
            self.stdout.write(line)
        if signals:
            self.stdout.write(f"\nTest signals (correlation_id {signals['correlation_id']}):")
            for name in ("span", "sentry", "log"):
                details = ", ".join(f"{k}={v}" for k, v in signals[name].items())
                self.stdout.write(f"  {name}: {details}")
        counts = {
            s: sum(f.status == s for f in findings) for s in (checks.PASS, checks.WARN, checks.FAIL)
        }
        self.stdout.write(
            f"\n{counts['pass']} passed, {counts['warn']} warnings, {counts['fail']} failed "
            f"in {seconds:.1f} s"
        )
