"""Logging and correlation findings: the root handler's formatter and context filter, a sample
record against the JSON schema, and CorrelationIdMiddleware ahead of every middleware that logs."""

import json
import logging

from django.conf import settings

from observability.checks.base import (
    ACCESS_LOG,
    CORRELATION,
    FAIL,
    PASS,
    PROMETHEUS_BEFORE,
    SENTRY_REQUEST,
    TRACING_MODULE,
    WARN,
    Finding,
    production,
)


def check_logging() -> list[Finding]:
    from observability.logging import SCHEMA_FIELDS, ContextFilter, JsonFormatter, TextFormatter

    handlers = logging.getLogger().handlers
    formatters = [handler.formatter for handler in handlers]
    if not any(isinstance(f, JsonFormatter | TextFormatter) for f in formatters):
        return [
            Finding(
                "logging",
                "formatter",
                FAIL,
                "the root logger has no project formatter",
                "Keep settings.LOGGING's stdout handler (observability/logging.py).",
            )
        ]
    found = []
    handler = next(h for h in handlers if isinstance(h.formatter, JsonFormatter | TextFormatter))
    if isinstance(handler.formatter, TextFormatter):
        status = WARN if production() else PASS
        found.append(
            Finding(
                "logging",
                "format",
                status,
                "text lines (LOG_FORMAT=text)",
                "Use LOG_FORMAT=json in production: Loki parses JSON.",
            )
        )
    else:
        found.append(Finding("logging", "format", PASS, "JSON lines on stdout"))
    if not any(isinstance(f, ContextFilter) for f in handler.filters):
        found.append(
            Finding(
                "logging",
                "context",
                FAIL,
                "no ContextFilter on the handler",
                "Add the 'context' filter: lines would lack correlation/trace IDs.",
            )
        )
        return found
    record = logging.makeLogRecord(
        {
            "name": "check_observability",
            "levelname": "INFO",
            "levelno": logging.INFO,
            "msg": "sample",
        }
    )
    handler.filter(record)
    rendered = handler.format(record)
    if isinstance(handler.formatter, JsonFormatter):
        missing = [field for field in SCHEMA_FIELDS if field not in json.loads(rendered)]
        if missing:
            found.append(
                Finding(
                    "logging",
                    "schema",
                    FAIL,
                    f"missing {', '.join(missing)}",
                    "Restore observability.logging.JsonFormatter.",
                )
            )
            return found
    found.append(Finding("logging", "schema", PASS, "a sample record renders every field"))
    return found


def check_correlation() -> list[Finding]:
    middleware = list(settings.MIDDLEWARE)
    if CORRELATION not in middleware:
        return [
            Finding(
                "correlation",
                "middleware",
                FAIL,
                "CorrelationIdMiddleware missing",
                f"Add {CORRELATION} near the top of MIDDLEWARE.",
            )
        ]
    position = middleware.index(CORRELATION)
    loggers_before = [
        m
        for m in middleware[:position]
        if m not in (PROMETHEUS_BEFORE, SENTRY_REQUEST) and not m.startswith(TRACING_MODULE)
    ]
    if loggers_before or (ACCESS_LOG in middleware and middleware.index(ACCESS_LOG) < position):
        return [
            Finding(
                "correlation",
                "middleware",
                FAIL,
                f"runs after {', '.join(loggers_before) or ACCESS_LOG}",
                "Move CorrelationIdMiddleware before every middleware that logs.",
            )
        ]
    return [Finding("correlation", "middleware", PASS, f"installed, position {position + 1}")]
