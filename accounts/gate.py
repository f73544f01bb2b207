"""At most LOGIN_CONCURRENCY login attempts checked at a time per worker process; any more are
turned away at once (429, Retry-After: 1), before a database query or a password hash.

A password check is about half a second of CPU (PBKDF2), and django-axes can refuse a client
only once its failures are recorded, that is after checking them. Without this gate the first
wave of a password flood has every gunicorn thread hashing at once: the CPU saturated and no
thread free for kubelet's probes for seconds. Turned away at once, the surplus frees its thread
within milliseconds, and django-axes locks the flood out after its first few failures. The price:
more people than that logging in on the same worker within the same half second are asked to
retry a second later. Not counted as failures, these attempts never lead to a lockout.
"""

import functools
import threading

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from accounts import metrics
from accounts.lockout import quiet
from common.problems import problem_json_response

RETRY_AFTER_SECONDS = 1
DETAIL = "Too many logins are being checked at this moment; retry in a second."
PAGE = (
    "<!doctype html><title>Too Many Requests</title><h1>Too many logins at this moment</h1>"
    "<p>Please retry in a second.</p>"
)


@functools.cache
def _slots(concurrency: int) -> threading.BoundedSemaphore:
    # One per process and setting value (tests change the setting).
    return threading.BoundedSemaphore(concurrency)


def slots() -> threading.BoundedSemaphore:
    return _slots(settings.LOGIN_CONCURRENCY)


@functools.cache
def login_paths() -> dict[str, str]:
    """The paths that check passwords, with their metric label."""
    return {reverse("admin:login"): metrics.ADMIN, reverse("auth-token"): metrics.TOKEN}


class LoginGateMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        endpoint = login_paths().get(request.path) if request.method == "POST" else None
        if endpoint is None:
            return self.get_response(request)
        gate = slots()
        if not gate.acquire(blocking=False):
            return busy_response(request, endpoint)
        try:
            return self.get_response(request)
        finally:
            gate.release()


def busy_response(request: HttpRequest, endpoint: str) -> HttpResponse:
    metrics.LOGIN_REFUSED.labels(endpoint, metrics.BUSY).inc()
    if endpoint == metrics.TOKEN:
        response = problem_json_response(request, 429, "login-busy", DETAIL)
    else:
        response = HttpResponse(PAGE, status=429)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    quiet(response)
    return response
