"""Observability built in: correlation IDs, logs, traces, errors, metrics and their checks."""
