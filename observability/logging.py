"""Structured logs: one JSON object per line, every record carrying its request's IDs.

- `ContextFilter` (on the handler) adds correlation_id, trace_id and span_id to every record,
  reading them from the request for `django.request` records written after the middleware
  stack has returned.
- `JsonFormatter` writes the fixed log-line schema (docs/observability.md) plus the record's
  extras; a clashing extra key never overwrites a schema field and never crashes the call
  (`SafeExtraLogger`, the logger class `configure_logging` installs: settings.LOGGING_CONFIG).
  Messages, extras and exceptions pass through observability.scrubbing first.
- `TextFormatter` is the same information on one readable line (LOG_FORMAT=text).
- Either way one record is one line: a line break decoded from a URL (`%0D%0A`) or sent in a
  message cannot end a record early and forge the next one (`escape_control_characters`).
- `AccessLogMiddleware` writes one `intelliflow.access` line per request.
"""

import logging
import logging.config
import re
import time
import traceback

from django.conf import settings
from opentelemetry import trace
from opentelemetry.trace import format_span_id, format_trace_id
from pythonjsonlogger import json as json_logging
from pythonjsonlogger.core import RESERVED_ATTRS

from common import compat
from observability import scrubbing
from observability.correlation import correlation_id_var

SCHEMA_FIELDS = (
    "timestamp", "level", "logger", "message", "service", "environment", "version",
    "correlation_id", "trace_id", "span_id",
)  # fmt: skip
CONTEXT_FIELDS = ("correlation_id", "trace_id", "span_id")
# LogRecord attributes plus what Django attaches to its records that is not data.
_NOT_EXTRA = (
    frozenset(RESERVED_ATTRS) | {"taskName", "request", "server_time"} | set(CONTEXT_FIELDS)
)
_PROTECTED = (
    frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"} | set(SCHEMA_FIELDS)
)

access_logger = logging.getLogger("intelliflow.access")


class SafeExtraLogger(logging.Logger):
    """`extra` keys that would clash with a LogRecord attribute or a schema field are kept
    as `extra.<key>` instead of raising KeyError (stdlib) or overwriting the field."""

    def makeRecord(  # noqa: N802 - overrides the stdlib name
        self, name, level, fn, lno, msg, args, exc_info, func=None, extra=None, sinfo=None
    ):
        if extra and not _PROTECTED.isdisjoint(extra):
            extra = {f"extra.{k}" if k in _PROTECTED else k: v for k, v in extra.items()}
        return super().makeRecord(name, level, fn, lno, msg, args, exc_info, func, extra, sinfo)


def install_logger_class() -> None:
    """Loggers created from now on are `SafeExtraLogger`s (logging.setLoggerClass). Called by
    `configure_logging` and by gunicorn.conf.py, never on import."""
    logging.setLoggerClass(SafeExtraLogger)


def configure_logging(config: dict) -> None:
    """settings.LOGGING_CONFIG. django.setup() calls it with settings.LOGGING, once, after its
    own dictConfig(DEFAULT_LOGGING) and before any app is loaded (django/utils/log.py,
    configure_logging, Django 5.2): the logger class first, so the apps' module-level loggers
    are created with it, then the configuration. Loggers that exist by then (Django's own, the
    ones imported while the settings load, such as this module's `intelliflow.access`) keep the
    stdlib class; their callers pass no clashing `extra` key."""
    install_logger_class()
    logging.config.dictConfig(config)


class ContextFilter(logging.Filter):
    """Stamp every record with the correlation ID and the current trace/span IDs."""

    def filter(self, record: logging.LogRecord) -> bool:
        span_context = trace.get_current_span().get_span_context()
        correlation_id = correlation_id_var.get()
        request = record.__dict__.get("request")
        if request is not None:  # django.request: written after the middleware returned
            correlation_id = correlation_id or getattr(request, "correlation_id", None)
            if not span_context.is_valid:
                span_context = getattr(request, "span_context", span_context)
        record.correlation_id = correlation_id
        if span_context.is_valid:
            record.trace_id = format_trace_id(span_context.trace_id)
            record.span_id = format_span_id(span_context.span_id)
        else:
            record.trace_id = record.span_id = None
        return True


class QuietDisallowedHost(logging.Filter):
    """A request with a Host the app does not serve (scanners, a misrouted probe) is one
    WARNING line, not an ERROR with a traceback (which Sentry's logging integration would
    also send as an event, one per scanner request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info = record.exc_text = None
        return True


def logging_config(
    *, level: str, log_format: str, service: str, environment: str, version: str
) -> dict:
    """The one logging configuration: Django's LOGGING (intelliflow/settings/logs.py) and
    gunicorn's `logconfig_dict` (gunicorn.conf.py), so gunicorn's own lines (worker boot,
    timeout, crash) are JSON lines of the same schema as the app's, on the same stream."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": "observability.logging.ContextFilter"},
            "quiet_disallowed_host": {"()": "observability.logging.QuietDisallowedHost"},
        },
        "formatters": {
            "json": {
                "()": "observability.logging.JsonFormatter",
                "service": service,
                "environment": environment,
                "version": version,
            },
            "text": {"()": "observability.logging.TextFormatter"},
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": log_format,
                "filters": ["context"],
            },
        },
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            # Django's and gunicorn's own handlers are replaced by the root's.
            "django": {"handlers": [], "level": level, "propagate": True},
            "django.server": {"handlers": [], "level": level, "propagate": True},
            "gunicorn.error": {"handlers": [], "level": level, "propagate": True},
            # The app writes its own access line (intelliflow.access); gunicorn's would be a
            # second one for every request.
            "gunicorn.access": {"handlers": [], "propagate": False},
            "django.security.DisallowedHost": {"filters": ["quiet_disallowed_host"]},
            # Noisy loggers pinned: SQL per query, SDK internals, HTTP client chatter.
            "django.db.backends": {"level": "WARNING"},
            "sentry_sdk": {"level": "WARNING"},
            "urllib3": {"level": "WARNING"},
            "opentelemetry": {"level": "WARNING"},
            "psycopg": {"level": "WARNING"},
        },
    }


_second: tuple[int, str] = (-1, "")  # the last second formatted, reused by its records


def _timestamp(record: logging.LogRecord) -> str:
    global _second
    seconds = int(record.created)
    cached = _second  # read once: another thread may replace it meanwhile
    if cached[0] != seconds:
        cached = _second = (seconds, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)))
    milliseconds = int((record.created - seconds) * 1000)  # from the same float as `seconds`
    return f"{cached[1]}.{milliseconds:03d}Z"


# Characters that end a line or drive a terminal for some reader of the logs: C0 and C1 control
# characters (\n, \r, \t, ESC, NEL), DEL, and the Unicode line and paragraph separators.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# In a JSON line, C1 and the Unicode separators: the JSON encoder escapes C0 itself, and leaves
# these raw (ensure_ascii=False), where str.splitlines() and some log shippers end a line.
_UNESCAPED_BY_JSON = re.compile(r"[\x80-\x9f\u2028\u2029]")
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match) -> str:
    character = match.group()
    code = ord(character)
    return _NAMED_ESCAPES.get(character) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def escape_control_characters(text: str) -> str:
    r"""`\n`, `\x1b`, `\u2028` in place of the characters themselves: the text is one line."""
    return _CONTROL_CHARACTERS.sub(_escape, text)


def _json_escape(match: re.Match) -> str:
    return f"\\u{ord(match.group()):04x}"  # valid in a JSON string, and all they can be in


def _extras(record: logging.LogRecord) -> dict:
    return scrubbing.scrub(
        {
            key: value
            for key, value in record.__dict__.items()
            if key not in _NOT_EXTRA and not key.startswith("_")
        }
    )


def _exception_fields(record: logging.LogRecord) -> dict:
    if not record.exc_info or record.exc_info[0] is None:
        return {}
    exc_type, exc_value, exc_traceback = record.exc_info
    return {
        "exception.type": f"{exc_type.__module__}.{exc_type.__qualname__}",
        "exception.message": scrubbing.scrub_text(str(exc_value)),
        "exception.stacktrace": scrubbing.scrub_text(
            "".join(traceback.format_exception(exc_type, exc_value, exc_traceback))
        ),
    }


class JsonFormatter(json_logging.JsonFormatter):
    def __init__(self, *, service: str, environment: str, version: str, **kwargs):
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(**kwargs)
        self.service, self.environment, self.version = service, environment, version

    def format(self, record: logging.LogRecord) -> str:
        record.message = scrubbing.scrub_text(record.getMessage())
        data = {
            "timestamp": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.message,
            "service": self.service,
            "environment": self.environment,
            "version": self.version,
            "correlation_id": record.__dict__.get("correlation_id"),
            "trace_id": record.__dict__.get("trace_id"),
            "span_id": record.__dict__.get("span_id"),
        }
        for key, value in _extras(record).items():
            data[f"extra.{key}" if key in data else key] = value
        data |= _exception_fields(record)
        if record.stack_info:
            data["stack_info"] = self.formatStack(record.stack_info)
        line = self.serialize_log_record(data)
        # An ASCII line holds none of them: most lines skip the search.
        return line if line.isascii() else _UNESCAPED_BY_JSON.sub(_json_escape, line)


class TextFormatter(logging.Formatter):
    """`2026-11-27T18:00:00.123Z INFO  leads.services lead created lead_id=… [cid=… trace=…]`

    Every field is escaped (`escape_control_characters`), the traceback too: one record, one
    line, so no field can start a line that reads as a record of its own."""

    def format(self, record: logging.LogRecord) -> str:
        record.message = scrubbing.scrub_text(record.getMessage())
        extras = " ".join(f"{key}={value}" for key, value in _extras(record).items())
        context = " ".join(
            f"{key}={record.__dict__[key]}" for key in CONTEXT_FIELDS if record.__dict__.get(key)
        )
        line = f"{_timestamp(record)} {record.levelname:<7} {record.name} {record.message}"
        line += f" {extras}" if extras else ""
        line += f" [{context}]" if context else ""
        if record.exc_info:
            line += " " + _exception_fields(record)["exception.stacktrace"].rstrip()
        return escape_control_characters(line)


def _user_id(request):
    """The authenticated user's id, without triggering a session or token lookup of our own."""
    user = compat.resolved_user(request)
    return user.pk if user is not None and user.is_authenticated else None


class AccessLogMiddleware:
    """One line per request with OTel-style HTTP fields; probes and scrapes skipped by default.

    Runs inside the OTel server span, so the line carries that span's trace and span IDs.
    The query string is never logged (it can hold search terms, that is personal data).
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.skipped_prefixes = () if settings.ACCESS_LOG_PROBES else settings.PROBE_PATH_PREFIXES

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        # isEnabledFor first: with INFO off nothing below is worth building.
        if access_logger.isEnabledFor(logging.INFO) and not request.path.startswith(
            self.skipped_prefixes
        ):
            match = request.resolver_match
            access_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "http.request.method": request.method,
                    "http.route": match.route if match else None,
                    "url.path": request.path,
                    "http.response.status_code": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                    "user.id": _user_id(request),
                },
            )
        return response


# The resolved user's id for other signals (the span's user.id), by the same rule.
resolved_user_id = _user_id
