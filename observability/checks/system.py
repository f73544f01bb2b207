"""The Django system checks (tag `observability`, `manage.py check [--deploy]`): the production
mistakes among the findings. Registered once, when this module is first imported (the package
imports it; ObservabilityConfig.ready() imports the package)."""

from django.conf import settings
from django.core import checks as django_checks

from observability.checks.base import FAIL
from observability.checks.logging import check_correlation
from observability.checks.tracing import sampler_description


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
