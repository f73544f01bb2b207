"""Who may read /health/db-stats, and in what form.

Decision: operators, which means the health token (for machines) or a staff user, whichever way
the API authenticates them (a DRF token or a session), exactly as the admin and DRF's
IsAdminUser understand staff (`is_staff`; a superuser made by createsuperuser is staff).
Refusals are problems (401 with a challenge, 403); the figures are application/health+json
like every other probe.
"""

import jsonschema
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from tests.factories import UserFactory
from tests.health.schema import HEALTH

pytestmark = pytest.mark.django_db

HEALTH_TOKEN = "health-token-for-tests"


def staff():
    return UserFactory(username="operator", is_staff=True)


def superuser():
    return get_user_model().objects.create_superuser("root", "root@staff.example", "pw")


def token_of(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=user).key}"}


def anonymous(client):
    return {}


def non_staff_token(client):
    return token_of(UserFactory(username="clerk"))


def non_staff_session(client):
    client.force_login(UserFactory(username="clerk"))
    return {}


def staff_token(client):
    return token_of(staff())


def staff_session(client):
    client.force_login(staff())
    return {}


def superuser_token(client):
    return token_of(superuser())


def superuser_session(client):
    client.force_login(superuser())
    return {}


def superuser_who_is_not_staff(client):
    # The admin refuses such an account too: staff is the one switch for operator pages.
    user = superuser()
    user.is_staff = False
    user.save()
    return token_of(user)


def inactive_staff_token(client):
    user = staff()
    headers = token_of(user)
    user.is_active = False
    user.save()
    return headers


def unknown_token(client):
    return {"HTTP_AUTHORIZATION": "Token 0123456789abcdef0123456789abcdef01234567"}


def health_token(client):
    return {"HTTP_AUTHORIZATION": f"Bearer {HEALTH_TOKEN}"}


def wrong_health_token(client):
    return {"HTTP_AUTHORIZATION": "Bearer not-the-token"}


ROLES = [
    (anonymous, 401),
    (non_staff_token, 403),
    (non_staff_session, 403),
    (staff_token, 200),
    (staff_session, 200),
    (superuser_token, 200),
    (superuser_session, 200),
    (superuser_who_is_not_staff, 403),
    (inactive_staff_token, 401),  # as the API answers an inactive user's token
    (unknown_token, 401),
    (health_token, 200),
    (wrong_health_token, 403),
]


@pytest.fixture(autouse=True)
def _health_token(settings):
    settings.HEALTH_TOKEN = HEALTH_TOKEN


@pytest.mark.parametrize("path", ["/health/db-stats", "/health/dbStats"])
@pytest.mark.parametrize(("role", "status"), ROLES, ids=[role.__name__ for role, _ in ROLES])
def test_who_may_read_db_stats(role, status, path):
    client = Client()
    response = client.get(path, **role(client))
    assert response.status_code == status, response.content
    assert response["Cache-Control"] == "no-store"
    if status == 200:
        assert response["Content-Type"] == "application/health+json"
        return
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    if status == 401:
        assert response["WWW-Authenticate"] == 'Bearer realm="health"'
    assert HEALTH_TOKEN not in response.content.decode()


def test_the_figures_are_a_health_body_like_the_other_probes(client, staff_user):
    client.force_login(staff_user)
    body = client.get("/health/db-stats").json()
    jsonschema.validate(body, HEALTH)
    assert body["status"] == "pass"
    assert {"version", "releaseId", "serviceId", "description"} <= set(body)
    assert {"database", "pool", "connectionsByState", "counters"} <= set(body)


def test_the_health_token_is_checked_before_any_token_lookup(client):
    # Token and session lookups need the database; the health token must not (an outage is
    # when operators need the page): only the figures' own queries run.
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/health/db-stats", **health_token(client)).status_code == 200
    assert not [query for query in queries.captured_queries if "authtoken" in query["sql"]]
