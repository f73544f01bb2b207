"""Metrics findings: the Prometheus middleware order, /metrics as a client asks for it, its
token, the multiprocess directory, and the metric families the dashboards need."""

import os

from django.conf import settings

from observability import multiprocess
from observability.checks.base import (
    FAIL,
    PASS,
    PROMETHEUS_AFTER,
    PROMETHEUS_BEFORE,
    WARN,
    Finding,
    production,
)


def check_metrics() -> list[Finding]:
    from django.test import Client
    from prometheus_client import REGISTRY

    found = []
    middleware = list(settings.MIDDLEWARE)
    ordered = (
        PROMETHEUS_BEFORE in middleware
        and PROMETHEUS_AFTER in middleware
        and middleware.index(PROMETHEUS_BEFORE) < middleware.index(PROMETHEUS_AFTER)
        and middleware[-1] == PROMETHEUS_AFTER
    )
    if not ordered:
        found.append(
            Finding(
                "metrics",
                "middleware",
                FAIL,
                "Prometheus middleware misplaced",
                "PrometheusBeforeMiddleware first, PrometheusAfterMiddleware last.",
            )
        )
    else:
        found.append(Finding("metrics", "middleware", PASS, "before first, after last"))
    headers = (
        {"HTTP_AUTHORIZATION": f"Bearer {settings.METRICS_TOKEN}"} if settings.METRICS_TOKEN else {}
    )
    # As a real client would ask, with a Host the app accepts (the test client's "testserver"
    # is refused wherever ALLOWED_HOSTS is set properly).
    allowed = [h.lstrip(".") for h in settings.ALLOWED_HOSTS if h not in ("*", "")]
    response = (
        Client(raise_request_exception=False, HTTP_HOST=allowed[0]).get("/metrics", **headers)
        if allowed
        else None
    )
    if response is None:
        found.append(
            Finding(
                "metrics",
                "/metrics",
                WARN,
                "not checked: no allowed host to ask with",
                "Set DJANGO_ALLOWED_HOSTS.",
            )
        )
    elif response.status_code != 200 or b"django_http" not in response.content:
        found.append(
            Finding(
                "metrics",
                "/metrics",
                FAIL,
                f"HTTP {response.status_code}",
                "Check the metrics route and METRICS_TOKEN.",
            )
        )
    else:
        found.append(Finding("metrics", "/metrics", PASS, f"{len(response.content)} bytes"))
    if production() and not settings.METRICS_TOKEN:
        found.append(
            Finding(
                "metrics",
                "access",
                WARN,
                "/metrics is open to anyone",
                "Set METRICS_TOKEN and give Prometheus the same bearer token.",
            )
        )
    else:
        found.append(
            Finding(
                "metrics",
                "access",
                PASS,
                "token set" if settings.METRICS_TOKEN else "open (development)",
            )
        )
    directory = multiprocess.configured_directory()
    if directory and not os.access(directory, os.W_OK):
        found.append(
            Finding(
                "metrics",
                "multiprocess",
                FAIL,
                f"{directory} not writable",
                "Make PROMETHEUS_MULTIPROC_DIR writable by the workers.",
            )
        )
    else:
        found.append(
            Finding(
                "metrics",
                "multiprocess",
                PASS,
                directory or "single process (gunicorn.conf.py prepares a directory)",
            )
        )
    names = set()
    for family in REGISTRY.collect():  # a counter's family name is without "_total"
        names.add(family.name)
        if family.type == "counter":
            names.add(f"{family.name}_total")
    expected = {
        "django_http_requests_latency_seconds_by_view_method",
        "intelliflow_leads_created_total",
        "intelliflow_db_pool_connections",
        "intelliflow_process_resident_memory_bytes",
    }
    missing = sorted(expected - names)
    if missing:
        found.append(
            Finding(
                "metrics",
                "families",
                FAIL,
                f"missing {', '.join(missing)}",
                "observability.metrics must be imported at start-up.",
            )
        )
    else:
        found.append(Finding("metrics", "families", PASS, f"{len(expected)} expected present"))
    return found
