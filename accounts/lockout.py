"""What a locked-out client is told: when to come back, as a problem for the API and as a page
for people (the admin).

django-axes (8.3.1) hands the admin's response to AXES_LOCKOUT_CALLABLE, `lockout_response`;
the token endpoint raises `LockedOut` itself, which the API's exception handler turns into a
problem (DRF sets Retry-After from `wait`).
"""

import functools
import math
import operator

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off, get_lockout_message
from django.contrib import admin
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from rest_framework import exceptions

from common.compat import mark_response_logged
from common.problems import problem_json_response

DETAIL = "Too many failed logins from this address or for this username."


class LockedOut(exceptions.Throttled):
    """The token endpoint's lockout: HTTP 429, problem type `locked-out`, with Retry-After."""

    default_detail = DETAIL
    default_code = "locked_out"


def retry_after_seconds(request: HttpRequest, credentials: dict | None = None) -> int:
    """Seconds until the lockout ends at the latest: a cool-off after the newest failure it
    counts. Refused attempts are not recorded (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT
    is off), so retrying early does not move the end."""
    cool_off = get_cool_off(request)
    # One queryset per lockout parameter (by address, by username), as axes counts them.
    attempts = AxesProxyHandler.get_implementation().get_user_attempts(request, credentials)
    newest = functools.reduce(operator.or_, attempts).aggregate(newest=Max("attempt_time"))
    if newest["newest"] is None:  # unlocked meanwhile (reset by an administrator)
        return 1
    remaining = newest["newest"] + cool_off - timezone.now()
    return max(1, math.ceil(remaining.total_seconds()))


def lockout_response(
    request: HttpRequest, original_response=None, credentials: dict | None = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE (axes' AxesMiddleware calls it for a locked-out request): 429."""
    seconds = retry_after_seconds(request, credentials)
    if request.path.startswith("/api/"):
        response = problem_json_response(request, 429, "locked-out", DETAIL)
    else:
        context = admin.site.each_context(request) | {
            "title": "Too many failed logins",
            "message": get_lockout_message(),
            "retry_minutes": math.ceil(seconds / 60),
        }
        response = render(request, "accounts/locked_out.html", context, status=429)
    response["Retry-After"] = str(seconds)
    quiet(response)
    return response


def quiet(response: HttpResponse) -> None:
    """No django.request WARNING per locked-out request: during a flood that is a line per
    request. The lockout itself was logged when it began (accounts.signals), every refused
    attempt is counted, and the access line remains."""
    mark_response_logged(response)
