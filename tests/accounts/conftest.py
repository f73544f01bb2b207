"""Logging in as clients do: the admin's form and the token endpoint, from chosen addresses."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db.models import F
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.observability.conftest import json_logs  # noqa: F401 - a fixture used here too

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's
WRONG = "wrong-password-value"
ADMIN_LOGIN = "/admin/login/"
TOKEN = "/api/v1/auth/token/"
CLIENT = "203.0.113.7"
OTHER_CLIENT = "198.51.100.20"


def admin_login(username: str, password: str, address: str = CLIENT, **extra):
    """A browser's POST of the admin's login form (a new browser each time)."""
    return Client().post(
        f"{ADMIN_LOGIN}?next=/admin/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **extra,
    )


def token_login(username: str, password: str, address: str = CLIENT, **extra):
    return APIClient().post(
        TOKEN, {"username": username, "password": password}, REMOTE_ADDR=address, **extra
    )


def age_attempts(**delta) -> None:
    """Move every recorded failure back in time, as if that much time had passed."""
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(**delta))


def failures_recorded(**filters) -> int:
    return sum(a.failures_since_start for a in AccessAttempt.objects.filter(**filters))


@pytest.fixture
def staff(db):
    return UserFactory(username="staff", is_staff=True, is_superuser=True)


@pytest.fixture
def limit(settings) -> int:
    return settings.AXES_FAILURE_LIMIT
