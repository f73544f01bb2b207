"""Lockouts as clients meet them: the admin's login and the token endpoint, by address and by
username, ending after the cool-off, stored in the database for every worker and pod."""

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.test import Client

from tests.accounts.conftest import (
    CLIENT,
    OTHER_CLIENT,
    PASSWORD,
    WRONG,
    admin_login,
    age_attempts,
    failures_recorded,
    token_login,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def cooloff_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def test_the_defaults_are_five_failures_and_fifteen_minutes():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert cooloff_seconds() == 15 * 60
    assert settings.AXES_LOCKOUT_PARAMETERS == ["ip_address", "username"]
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"


def test_admin_locks_out_at_the_limit_and_unlocks_after_the_cooloff(staff, limit):
    for _ in range(limit - 1):
        assert admin_login("staff", WRONG).status_code == 200  # the form again, with its error
    locked = admin_login("staff", WRONG)
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert cooloff_seconds() - 5 <= int(locked["Retry-After"]) <= cooloff_seconds()
    # The right password changes nothing during the lockout.
    assert admin_login("staff", PASSWORD).status_code == 429

    age_attempts(minutes=10)
    assert int(admin_login("staff", PASSWORD)["Retry-After"]) <= cooloff_seconds() - 10 * 60
    age_attempts(minutes=5, seconds=1)
    response = admin_login("staff", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_token_endpoint_locks_out_with_a_problem_and_unlocks_after_the_cooloff(user, limit):
    for _ in range(limit - 1):
        refused = token_login(user.username, WRONG)
        assert refused.status_code == 401
        assert refused["Content-Type"] == "application/problem+json"
        assert refused["WWW-Authenticate"] == "Token"
        assert refused.json()["type"].endswith("/authentication-failed")
        assert refused.json()["detail"] == "Wrong username or password."
    locked = token_login(user.username, WRONG)
    assert locked.status_code == 429
    assert locked["Content-Type"] == "application/problem+json"
    body = locked.json()
    assert body["type"].endswith("/locked-out")
    assert body["status"] == 429
    assert body["title"] == "Too Many Requests"
    assert body["instance"] == "/api/v1/auth/token/"
    assert body["detail"].startswith("Too many failed logins")
    assert body["correlation_id"]
    assert cooloff_seconds() - 5 <= int(locked["Retry-After"]) <= cooloff_seconds()
    assert token_login(user.username, PASSWORD).status_code == 429

    age_attempts(seconds=cooloff_seconds() + 1)
    response = token_login(user.username, PASSWORD)
    assert response.status_code == 200
    assert set(response.json()) == {"token"}


def test_the_token_is_the_users_token(user):
    token = token_login(user.username, PASSWORD).json()["token"]
    assert token == token_login(user.username, PASSWORD).json()["token"]
    user.refresh_from_db()
    assert user.last_login is not None  # a token login is a login
    api = Client(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/leads/").status_code == 200


def test_one_address_is_locked_out_whatever_usernames_it_tries(user, limit):
    for n in range(limit):
        token_login(f"nobody{n}", WRONG)
    assert token_login(user.username, PASSWORD).status_code == 429
    assert admin_login(user.username, PASSWORD).status_code == 429
    assert token_login(user.username, PASSWORD, address=OTHER_CLIENT).status_code == 200


def test_one_username_is_locked_out_whatever_addresses_try_it(user, limit):
    for n in range(limit):
        token_login(user.username, WRONG, address=f"192.0.2.{n + 1}")
    assert token_login(user.username, PASSWORD, address=OTHER_CLIENT).status_code == 429
    other_user = UserFactory()
    assert token_login(other_user.username, PASSWORD, address="192.0.2.1").status_code == 200


def test_admin_and_token_failures_count_together(user, limit):
    for _ in range(limit - 2):
        admin_login(user.username, WRONG)
    token_login(user.username, WRONG)
    assert admin_login(user.username, WRONG).status_code == 429
    assert token_login(user.username, PASSWORD).status_code == 429


def test_success_forgets_this_usernames_failures_from_this_address(staff, limit):
    for _ in range(limit - 1):
        token_login("staff", WRONG)
    assert token_login("staff", PASSWORD).status_code == 200
    assert not AccessAttempt.objects.exists()
    for _ in range(limit - 1):
        assert admin_login("staff", WRONG).status_code == 200
    assert admin_login("staff", PASSWORD).status_code == 302
    assert not AccessAttempt.objects.exists()


def test_success_keeps_other_usernames_failures(user, limit):
    """An attacker logging into their own account between guesses wipes nothing."""
    victim = UserFactory()
    for _ in range(limit - 1):
        token_login(victim.username, WRONG)
    assert token_login(user.username, PASSWORD).status_code == 200  # the attacker's own
    assert failures_recorded(username=victim.username) == limit - 1
    assert token_login(victim.username, WRONG).status_code == 429


def test_the_lockout_is_in_the_database_for_every_worker(user, limit):
    for _ in range(limit):
        token_login(user.username, WRONG, HTTP_USER_AGENT="worker-one")
    (attempt,) = AccessAttempt.objects.all()
    assert (attempt.username, attempt.ip_address) == (user.username, CLIENT)
    assert attempt.failures_since_start == limit
    # Another client (no session, no cookie, another user agent) meets the same lockout, as
    # any other worker or pod would: nothing of it lives in the process.
    assert token_login(user.username, PASSWORD, HTTP_USER_AGENT="worker-two").status_code == 429
    assert admin_login(user.username, PASSWORD, HTTP_USER_AGENT="worker-two").status_code == 429
    # Refused attempts are not recorded: they neither extend the lockout nor write rows.
    assert failures_recorded() == limit


def test_an_administrator_unlocks_with_axes_reset(user, limit):
    from django.core.management import call_command

    for _ in range(limit):
        token_login(user.username, WRONG)
    call_command("axes_reset_username", user.username)
    assert token_login(user.username, PASSWORD).status_code == 200


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"username": "u" * 151, "password": "x"}, "username"),
        ({"username": "someone\x00", "password": "x"}, "username"),
        ({"username": "someone"}, "password"),
        ({"username": "", "password": "x"}, "username"),
    ],
    ids=["too-long", "nul", "no-password", "blank"],
)
def test_malformed_credentials_are_a_400_and_no_failure(data, field):
    from rest_framework.test import APIClient

    response = APIClient().post("/api/v1/auth/token/", data, REMOTE_ADDR=CLIENT)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not AccessAttempt.objects.exists()


def test_authenticate_without_a_request_is_refused_so_nothing_escapes_the_count(user):
    """django-axes refuses to authenticate without a request (it could not count it): tests
    log in with force_login(), or client.login(request=HttpRequest(), ...)."""
    with pytest.raises(ValueError, match="requires a request"):
        authenticate(username=user.username, password=PASSWORD)
    client = Client()
    request = HttpRequest()
    request.META["REMOTE_ADDR"] = CLIENT
    assert client.login(request=request, username=user.username, password=PASSWORD)
    client.force_login(user)
