"""The probe endpoints. Plain Django views (no DRF view, no transaction; only db-stats asks who
calls): they must be cheap, answer within the probe timeout and never be cached. Read-only,
so CSRF-exempt: any method but GET and HEAD is a 405 problem."""

import hmac
import logging
import os

from django.conf import settings
from django.db import connections, transaction
from django.http import HttpRequest, JsonResponse
from django.shortcuts import render
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.settings import api_settings

from common import compat
from common.correlation import get_correlation_id
from common.problems import problem_json_response, read_only
from health import checks, presentation, stats
from health.reporting import (
    HEALTH_CONTENT_TYPE,
    health_body,
    http_status,
    overall_status,
    run_checks,
    run_one,
    service_fields,
)

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
    return read_only(transaction.non_atomic_requests(view))


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


def _api_user(request: HttpRequest):
    """The caller as the API authenticates it: DRF's authentication classes (a token, a
    session), so a staff user's API token opens db-stats as their session does."""
    authenticators = [
        authenticator() for authenticator in api_settings.DEFAULT_AUTHENTICATION_CLASSES
    ]
    return Request(request, authenticators=authenticators).user


def _unauthenticated(request: HttpRequest, detail: str):
    response = problem_json_response(request, 401, "not-authenticated", detail)
    response["WWW-Authenticate"] = 'Bearer realm="health"'
    return response


def _refusal(request: HttpRequest):
    """None when the caller may see db-stats (HEALTH_TOKEN, or a staff user by API token or
    session, as the admin and DRF's IsAdminUser decide), else a 401/403 problem."""
    token = settings.HEALTH_TOKEN
    scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(credential, token):
        return None
    try:
        user = _api_user(request)
    except AuthenticationFailed as error:  # an unknown or inactive user's token, as the API says
        return _unauthenticated(request, str(error.detail))
    if user.is_authenticated and user.is_staff:
        return None
    if user.is_authenticated or credential:
        return problem_json_response(
            request, 403, "permission-denied", "Staff or the health token only."
        )
    return _unauthenticated(
        request,
        "Send Authorization: Bearer <HEALTH_TOKEN>, or a staff user's API token, or log in.",
    )


@probe
def db_stats(request: HttpRequest):
    """Database server, pool and activity figures for operators, as application/health+json
    like the other probes."""
    refusal = _refusal(request)
    if refusal is not None:
        refusal["Cache-Control"] = "no-store"
        return refusal
    body = stats.database_stats(connections["default"])
    return _health_response(
        {"status": body["status"], **service_fields("database statistics"), **body}
    )


@probe
def status_page(request: HttpRequest):
    """The same checks as /health/check, for people: one row per check, in words and units
    (health.presentation), so the template only loops."""
    outcomes = run_checks(checks.all_checks())
    status = overall_status(outcomes)
    response = render(
        request,
        "health/status.html",
        {
            "status": status,
            "rows": presentation.status_rows(outcomes),
            "environment": settings.DJANGO_ENV,
            "version": settings.VERSION,
            # RELEASE_ID defaults to VERSION: shown only when it says something more.
            "release_id": "" if settings.RELEASE_ID == settings.VERSION else settings.RELEASE_ID,
        },
        status=http_status(status),
    )
    response["Cache-Control"] = "no-store"
    return response
