"""Error reporting findings: Sentry switched on with a valid DSN, its scrubbing and personal
data options, its integrations, traces rate and request middleware."""

from urllib.parse import urlsplit

from django.conf import settings

from observability.checks.base import FAIL, PASS, WARN, Finding, production


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
