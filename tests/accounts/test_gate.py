"""The login gate: beyond LOGIN_CONCURRENCY password checks at once per worker, a login is
answered 429 at once, unchecked and uncounted as a failure; nothing else is gated."""

import pytest
from axes.models import AccessAttempt
from django.test import Client
from prometheus_client import REGISTRY

from accounts import gate
from tests.accounts.conftest import PASSWORD, WRONG, admin_login, token_login
from tests.accounts.hashing import CountingHasher

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy(settings):
    """Every slot of this process taken, as by concurrent logins in other threads."""
    slots = gate.slots()
    for _ in range(settings.LOGIN_CONCURRENCY):
        assert slots.acquire(blocking=False)
    yield
    for _ in range(settings.LOGIN_CONCURRENCY):
        slots.release()


def refused_busy(endpoint: str) -> float:
    labels = {"endpoint": endpoint, "reason": "busy"}
    return REGISTRY.get_sample_value("intelliflow_login_refused_total", labels)


def test_two_checks_at_once_per_worker_by_default(settings):
    assert settings.LOGIN_CONCURRENCY == 2


def test_a_login_beyond_the_limit_is_turned_away_at_once(user, busy, settings):
    settings.PASSWORD_HASHERS = ["tests.accounts.hashing.CountingHasher"]
    hashes, before = CountingHasher.hashes, refused_busy("token")
    response = token_login(user.username, PASSWORD)
    assert response.status_code == 429
    assert response["Retry-After"] == "1"
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"].endswith("/login-busy")
    page = admin_login(user.username, WRONG)
    assert page.status_code == 429
    assert "retry in a second" in page.content.decode()
    assert CountingHasher.hashes == hashes  # nothing checked
    assert not AccessAttempt.objects.exists()  # nor counted against the client
    assert refused_busy("token") == before + 1
    assert refused_busy("admin") is not None


def test_only_login_posts_are_gated(busy, user):
    assert Client().get("/admin/login/").status_code == 200
    assert Client().get("/health/alive").status_code == 200
    api = Client(HTTP_AUTHORIZATION="Token nope")
    assert api.post("/api/v1/leads/", {}, content_type="application/json").status_code == 401


def test_the_slot_is_given_back_whatever_the_outcome(user, limit, settings):
    for _ in range(limit):
        token_login(user.username, WRONG)  # failures, then the lockout
    admin_login(user.username, PASSWORD)  # refused
    slots = gate.slots()
    taken = [slots.acquire(blocking=False) for _ in range(settings.LOGIN_CONCURRENCY)]
    assert all(taken)
    for _ in taken:
        slots.release()
