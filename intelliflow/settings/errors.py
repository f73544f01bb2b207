"""Errors (Sentry): where events go, their environment and release, the share of requests sent
as transactions. Composed last: with SENTRY_ENABLED and a DSN it starts the SDK, so that it is
on before Django loads any app (observability/errors.py)."""

from django.core.exceptions import ImproperlyConfigured

from intelliflow.settings.api import RELEASE_ID
from intelliflow.settings.core import DEBUG, DJANGO_ENV, VERSION
from intelliflow.settings.environment import env

# --- Errors (Sentry) ---------------------------------------------------------------------------

SENTRY_ENABLED = env.bool("SENTRY_ENABLED", default=False)
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default=DJANGO_ENV)
# SENTRY_RELEASE, else the image's version, plus RELEASE_ID (image tag or commit) as build
# metadata when it is set to something else: intelliflow-crm@1.4.0+3f9c2ab.
SENTRY_RELEASE = env.str("SENTRY_RELEASE", default="") or (
    f"intelliflow-crm@{VERSION}" + (f"+{RELEASE_ID}" if RELEASE_ID != VERSION else "")
)
# The share of requests sent as Sentry transactions, in the OTel trace (observability/errors.py).
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0 if DEBUG else 0.1)
if not 0.0 <= SENTRY_TRACES_SAMPLE_RATE <= 1.0:
    raise ImproperlyConfigured(
        f"SENTRY_TRACES_SAMPLE_RATE={SENTRY_TRACES_SAMPLE_RATE}: expected 0 to 1."
    )
if SENTRY_ENABLED and SENTRY_DSN:
    from observability.errors import configure_error_reporting

    configure_error_reporting(
        dsn=SENTRY_DSN,
        environment=SENTRY_ENVIRONMENT,
        release=SENTRY_RELEASE,
        traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
    )
