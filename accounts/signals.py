"""Receivers of the login signals: metrics, the lockout's log line, and the reset on success.

django-axes (8.3.1) records every failed login (Django's `user_login_failed`). With
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT off (intelliflow/settings/login.py), it sends
`axes.signals.user_locked_out` both when a recorded failure reaches the limit and for every
attempt refused during the lockout, unrecorded: only the former sets
`request.axes_failures_since_start`, which is how the two are told apart here.
"""

import logging
import math

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off, get_failure_limit, get_lockout_parameters
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models import Sum
from django.dispatch import receiver

from accounts import metrics
from accounts.client_ip import client_address

logger = logging.getLogger("intelliflow.security")


@receiver(user_login_failed, dispatch_uid="accounts.count_failure")
def count_failure(sender, credentials, request=None, **kwargs):
    metrics.LOGIN_FAILURES.labels(metrics.endpoint_of(request)).inc()


@receiver(user_locked_out, dispatch_uid="accounts.locked_out")
def locked_out(sender, request, username, ip_address, **kwargs):
    endpoint = metrics.endpoint_of(request)
    failures = getattr(request, "axes_failures_since_start", None)
    if failures is None:
        # Refused by AxesStandaloneBackend before any other backend: no password was hashed.
        # Not logged: during a flood that would be a line per request.
        metrics.LOGIN_REFUSED.labels(endpoint, metrics.LOCKED_OUT).inc()
        return
    # Once per lockout, or a few times when attempts checked at once reach the limit together.
    metrics.LOGIN_LOCKOUTS.labels(endpoint).inc()
    credentials = getattr(request, "axes_credentials", None)
    minutes = math.ceil(get_cool_off(request).total_seconds() / 60)
    locked_by = _locked_by(request, credentials)
    # Never the credentials: Django passed them with the password masked, but they stay out.
    logger.warning(
        "login lockout on %s after %d failed logins, by %s: refused for %d minutes",
        endpoint,
        failures,
        " and ".join(locked_by) or "none",
        minutes,
        extra={
            "client.address": ip_address,
            "user.name": username,
            "login.endpoint": endpoint,
            "login.failures": failures,
            "login.locked_by": locked_by,
            "login.cooloff_minutes": minutes,
        },
    )


def _locked_by(request, credentials) -> list[str]:
    """The lockout parameters (ip_address, username) whose failures reached the limit."""
    limit = get_failure_limit(request, credentials)
    parameters = get_lockout_parameters(request, credentials)
    attempts = AxesProxyHandler.get_implementation().get_user_attempts(request, credentials)
    return [
        parameter if isinstance(parameter, str) else "+".join(parameter)
        for parameter, queryset in zip(parameters, attempts, strict=True)
        if (queryset.aggregate(total=Sum("failures_since_start"))["total"] or 0) >= limit
    ]


@receiver(user_logged_in, dispatch_uid="accounts.forget_own_failures")
def forget_own_failures(sender, request, user, **kwargs):
    """A successful login clears the failures of this username from this address, and only
    those (instead of AXES_RESET_ON_SUCCESS, which also clears every other username's failures
    from the address and this username's failures from everywhere: an attacker holding one
    account could wipe their own record on another by logging in between guesses)."""
    if request is None:
        return
    AccessAttempt.objects.filter(
        username=user.get_username(), ip_address=client_address(request)
    ).delete()
