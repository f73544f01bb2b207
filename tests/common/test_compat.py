"""common/compat.py: every private reach is pinned to the release it was read against,
still has the shape it relies on, and still saves what its docstring says.

When one of these fails after an upgrade: re-read the upstream code named in compat.py, then
move the pin in `WRITTEN_FOR` (or delete the hack if upstream grew a public way)."""

import inspect
import logging
import time
from importlib.metadata import version

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import log as django_log
from django.utils.functional import SimpleLazyObject, empty

from common import compat


@pytest.mark.parametrize("distribution", sorted(compat.WRITTEN_FOR))
def test_the_installed_release_is_the_one_the_hacks_were_written_for(distribution):
    assert version(distribution) == compat.WRITTEN_FOR[distribution], (
        f"{distribution} moved from {compat.WRITTEN_FOR[distribution]} to "
        f"{version(distribution)}: compat.py's hacks for it are OFF (public fallbacks run). "
        "Re-read the upstream code each one relies on, then update WRITTEN_FOR."
    )


def test_every_hack_is_on():
    assert all(compat.ACTIVE.values()), compat.ACTIVE


# --- resolved_user: SimpleLazyObject._wrapped / empty ----------------------------------------


def test_simple_lazy_object_keeps_its_value_in_wrapped_and_starts_empty():
    assert list(inspect.signature(SimpleLazyObject.__init__).parameters) == ["self", "func"]
    lazy = SimpleLazyObject(lambda: ["value"])
    assert lazy._wrapped is empty
    assert len(lazy) == 1  # any use evaluates it
    assert lazy._wrapped == ["value"]


def test_resolved_user_never_resolves():
    calls = []
    request = RequestFactory().get("/")
    request.user = SimpleLazyObject(lambda: calls.append(1) or "user")
    assert compat.resolved_user(request) is None
    assert calls == []
    str(request.user)
    assert compat.resolved_user(request) == "user"
    assert calls == [1]
    request.user = "concrete"  # as DRF sets it once it authenticated
    assert compat.resolved_user(request) == "concrete"
    assert compat.resolved_user(RequestFactory().get("/")) is None


def _session_request(user):
    """A request as AuthenticationMiddleware leaves it: a session cookie, the user lazy."""
    factory = RequestFactory()
    seed = factory.get("/")
    SessionMiddleware(lambda r: HttpResponse()).process_request(seed)
    seed.session[SESSION_KEY] = str(user.pk)
    seed.session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    seed.session["_auth_user_hash"] = user.get_session_auth_hash()
    seed.session.save()
    key = seed.session.session_key

    def build():
        request = factory.get("/", HTTP_COOKIE=f"sessionid={key}")
        SessionMiddleware(lambda r: HttpResponse()).process_request(request)
        AuthenticationMiddleware(lambda r: HttpResponse()).process_request(request)
        return request

    return build


@pytest.mark.django_db
def test_saving_of_resolved_user(capsys):
    """The private check against the public path (evaluate request.user), side by side."""
    user = get_user_model().objects.create_user("compat-saving", password="x")
    build = _session_request(user)
    requests = [build() for _ in range(200)]
    started = time.perf_counter()
    for request in requests:
        compat.resolved_user(request)
    private = (time.perf_counter() - started) / len(requests)
    requests = [build() for _ in range(200)]
    started = time.perf_counter()
    for request in requests:
        assert request.user.pk == user.pk  # the public way: resolve it
    public = (time.perf_counter() - started) / len(requests)
    with capsys.disabled():
        print(
            f"\nresolved_user: private {private * 1e6:.2f} us, public {public * 1e6:.1f} us, "
            f"x{public / private:.0f}"
        )
    assert public > 20 * private


# --- mark_response_logged: HttpResponse._has_been_logged ------------------------------------


def test_log_response_still_skips_a_response_flagged_as_logged(caplog):
    assert list(inspect.signature(django_log.log_response).parameters) == [
        "message", "args", "response", "request", "logger", "level", "exception",
    ]  # fmt: skip
    request = RequestFactory().get("/api/v1/leads/")
    with caplog.at_level(logging.WARNING, logger="django.request"):
        plain = HttpResponse(status=503)
        django_log.log_response("%s", "plain", response=plain, request=request)
        assert plain._has_been_logged is True  # Django sets the very flag it checks
        flagged = HttpResponse(status=503)
        compat.mark_response_logged(flagged)
        django_log.log_response("%s", "flagged", response=flagged, request=request)
    assert [r.getMessage() for r in caplog.records if r.name == "django.request"] == ["plain"]


def test_off_on_another_release_each_hack_takes_its_public_fallback(monkeypatch):
    monkeypatch.setattr(compat, "RESOLVED_USER_ACTIVE", False)
    monkeypatch.setattr(compat, "RESPONSE_LOGGED_ACTIVE", False)
    request = RequestFactory().get("/")
    request.user = SimpleLazyObject(lambda: "user")
    str(request.user)
    assert compat.resolved_user(request) is None  # still lazy: not known to be resolved
    response = HttpResponse(status=503)
    compat.mark_response_logged(response)
    assert not hasattr(response, "_has_been_logged")
