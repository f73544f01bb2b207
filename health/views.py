"""The probe endpoints. Plain Django views (no DRF, no session lookup, no transaction): they
must be cheap, answer within the probe timeout and never be cached."""

import hmac
import logging
import os

from django.conf import settings
from django.db import connections, transaction
from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from health import checks, stats
from health.reporting import (
    HEALTH_CONTENT_TYPE,
    health_body,
    http_status,
    overall_status,
    run_checks,
    run_one,
)
from intelliflow.problems import problem_json_response
from observability import compat
from observability.correlation import get_correlation_id

logger = logging.getLogger(__name__)


def _health_response(body: dict, status: int = 200) -> JsonResponse:
    response = JsonResponse(body, status=status, content_type=HEALTH_CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    if status >= 500:
        # A failing probe is a state its body explains, not a server error: one WARNING line
        # naming what fails, instead of django.request's ERROR line, which error reporting
        # would turn into an event per probe for as long as a dependency is down.
        failing = sorted(
            key
            for key, entries in body.get("checks", {}).items()
            if any(entry["status"] == "fail" for entry in entries)
        )
        logger.warning("health probe failed: %s", ", ".join(failing), extra={"failing": failing})
        compat.mark_response_logged(response)
    return response


def probe(view):
    """GET/HEAD only, outside any transaction."""
    return require_safe(transaction.non_atomic_requests(view))


@probe
def ping(request: HttpRequest):
    """The HTTP stack answers: no dependency touched."""
    return _health_response({"status": "pass"})


@probe
def alive(request: HttpRequest):
    """Kubernetes liveness: the process only, checked in the request thread."""
    outcome = run_one(checks.ProcessCheck(max_rss_bytes=settings.HEALTH_MAX_RSS_BYTES))
    body = health_body([outcome], description="liveness of this worker process", pid=os.getpid())
    return _health_response(body, http_status(body["status"]))


@probe
def ready(request: HttpRequest):
    """Kubernetes readiness: every dependency needed to serve, within the time budget."""
    outcomes = run_checks(checks.ready_checks())
    body = health_body(outcomes, description="readiness to serve traffic")
    return _health_response(body, http_status(body["status"]))


@probe
def check(request: HttpRequest):
    """Every check with its observed values, for people and dashboards."""
    outcomes = run_checks(checks.all_checks())
    body = health_body(
        outcomes,
        description="all health checks",
        environment=settings.DJANGO_ENV,
        correlation_id=get_correlation_id(request),
    )
    return _health_response(body, http_status(body["status"]))


def _refusal(request: HttpRequest):
    """None when the caller may see db-stats (staff session or HEALTH_TOKEN), else 401/403."""
    token = settings.HEALTH_TOKEN
    scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(credential, token):
        return None
    user = request.user
    if user.is_authenticated and user.is_staff:
        return None
    if user.is_authenticated or credential:
        return problem_json_response(request, 403, "forbidden", "Staff or the health token only.")
    response = problem_json_response(
        request, 401, "not-authenticated", "Send Authorization: Bearer <HEALTH_TOKEN>, or log in."
    )
    response["WWW-Authenticate"] = 'Bearer realm="health"'
    return response


@probe
def db_stats(request: HttpRequest):
    """Database server, pool and activity figures for operators."""
    refusal = _refusal(request)
    if refusal is not None:
        refusal["Cache-Control"] = "no-store"
        return refusal
    body = stats.database_stats(connections["default"])
    response = JsonResponse(body)
    response["Cache-Control"] = "no-store"
    return response


@probe
def status_page(request: HttpRequest):
    """The same checks as /health/check, for people."""
    outcomes = run_checks(checks.all_checks())
    status = overall_status(outcomes)
    response = render(
        request,
        "health/status.html",
        {
            "status": status,
            "outcomes": outcomes,
            "environment": settings.DJANGO_ENV,
            "version": settings.VERSION,
            "release_id": settings.RELEASE_ID,
        },
        status=http_status(status),
    )
    response["Cache-Control"] = "no-store"
    return response
