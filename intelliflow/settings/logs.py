"""Logging: the level and format of the one stdout handler, the access line, and how Django
applies LOGGING (LOGGING_CONFIG)."""

from django.core.exceptions import ImproperlyConfigured

from intelliflow.settings.core import DJANGO_ENV, VERSION
from intelliflow.settings.environment import env
from observability.logging import logging_config

# --- Logging ----------------------------------------------------------------------------------
# One JSON object per line on stdout (observability/logging.py); LOG_FORMAT=text for humans.

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOG_FORMAT = env.str("LOG_FORMAT", default="json").lower()
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r}: expected json or text.")
# Probes and scrapes are frequent and uninteresting: no access line unless asked for.
ACCESS_LOG_PROBES = env.bool("ACCESS_LOG_PROBES", default=False)
PROBE_PATH_PREFIXES = ("/health/", "/health", "/metrics")
OTEL_SERVICE_NAME = env.str("OTEL_SERVICE_NAME", default="intelliflow-crm")

LOGGING = logging_config(
    level=LOG_LEVEL,
    log_format=LOG_FORMAT,
    service=OTEL_SERVICE_NAME,
    environment=DJANGO_ENV,
    version=VERSION,
)
# axes logs each failure (username and address masked, never the password) at WARNING, and
# accounts.signals each lockout; axes' INFO lines repeat every request's housekeeping.
LOGGING["loggers"]["axes"] = {"level": "WARNING"}

# What django.setup() calls with LOGGING, in place of Django's default logging.config.dictConfig
# (django/utils/log.py, configure_logging): it makes loggers created from then on keep an
# `extra` key that clashes with a record attribute or a log-line field as `extra.<key>`
# instead of raising KeyError (observability.logging.SafeExtraLogger), then applies LOGGING
# with dictConfig. gunicorn.conf.py does the same for gunicorn's own loggers.
LOGGING_CONFIG = "observability.logging.configure_logging"
