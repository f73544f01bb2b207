"""Who may do what, endpoint by endpoint, as tables; and CSRF on session-authenticated writes.

Decision (docs/http-api.md, "Auth"): leads are the team's shared pool. Every active, authenticated
user may read and work every lead, whoever owns it; `owner` is an assignment (a filter, a column
in the admin), not an access boundary. Unassigned leads (imports, web forms) must stay visible to
be picked up, and the contract has always allowed it. So "owner" and "user" rows are identical
on purpose: a per-owner rule added later has to change these tables first. Staff additionally get
the admin and the operators' /health/db-stats.
"""

import json
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from leads.models import Lead
from tests.factories import LeadFactory, UserFactory
from tests.leads.api import assert_problem, new_lead

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "user", "owner", "staff")

# The API, with token authentication: method, path, then the status for each of ROLES.
API = [
    ("GET", "/api/v1/leads/", 401, 200, 200, 200),
    ("POST", "/api/v1/leads/", 401, 201, 201, 201),
    ("GET", "/api/v1/leads/{lead}/", 401, 200, 200, 200),
    ("PUT", "/api/v1/leads/{lead}/", 401, 200, 200, 200),
    ("PATCH", "/api/v1/leads/{lead}/", 401, 200, 200, 200),
    ("DELETE", "/api/v1/leads/{lead}/", 401, 204, 204, 204),
    ("POST", "/api/v1/leads/{lead}/transition/", 401, 200, 200, 200),
    ("POST", "/api/v1/leads/{deleted}/restore/", 401, 200, 200, 200),
    ("POST", "/api/v1/leads/import/", 401, 201, 201, 201),
    ("GET", "/api/v1/leads/stats/", 401, 200, 200, 200),
    ("GET", "/api/v1/leads/export/", 401, 200, 200, 200),
    ("DELETE", "/api/v1/leads/", 401, 405, 405, 405),
    ("GET", "/api/v1/leads/{deleted}/", 401, 404, 404, 404),  # soft-deleted: gone for everyone
    ("GET", "/api/v1/nothing-here/", 404, 404, 404, 404),
]

# Everything else, with a session (people log in; probes and docs need nobody).
WEB = [
    ("GET", "/admin/", 302, 302, 302, 200),
    ("GET", "/admin/leads/lead/", 302, 302, 302, 200),
    ("GET", "/admin/leads/lead/{lead}/change/", 302, 302, 302, 200),
    ("GET", "/health/db-stats", 401, 403, 403, 200),
    ("GET", "/health/dbStats", 401, 403, 403, 200),
    ("GET", "/api/schema/", 200, 200, 200, 200),  # public on purpose: no data, helps clients
    ("GET", "/api/docs/", 200, 200, 200, 200),
    ("GET", "/status/", 200, 200, 200, 200),
    ("GET", "/health/ping", 200, 200, 200, 200),
    ("GET", "/health/ready", 200, 200, 200, 200),
    ("GET", "/metrics", 200, 200, 200, 200),  # without METRICS_TOKEN; with it: METRICS below
]

BODIES = {
    ("POST", "/api/v1/leads/"): new_lead(email="created@example.com"),
    ("PUT", "/api/v1/leads/{lead}/"): new_lead(email="replaced@example.com"),
    ("PATCH", "/api/v1/leads/{lead}/"): {"notes": "called back"},
    ("POST", "/api/v1/leads/{lead}/transition/"): {"status": "contacted"},
    ("POST", "/api/v1/leads/import/"): [new_lead(email="imported@example.com")],
}


def table(rows):
    return [
        pytest.param(method, path, role, expected, id=f"{method} {path} as {role}")
        for method, path, *statuses in rows
        for role, expected in zip(ROLES, statuses, strict=True)
    ]


@pytest.fixture
def world(staff_user):
    owner = UserFactory(username="owner")
    return SimpleNamespace(
        users={
            "anonymous": None,
            "user": UserFactory(username="other"),
            "owner": owner,
            "staff": staff_user,
        },
        lead=LeadFactory(owner=owner),
        deleted=LeadFactory(owner=owner, deleted_at=timezone.now()),
    )


def snapshot() -> list[dict]:
    return list(Lead.objects.order_by("pk").values())


def _json(body) -> dict:
    return {} if body is None else {"data": json.dumps(body), "content_type": "application/json"}


@pytest.mark.parametrize(("method", "path", "role", "expected"), table(API))
def test_api(world, method, path, role, expected):
    client = APIClient()
    user = world.users[role]
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    url = path.format(lead=world.lead.pk, deleted=world.deleted.pk)
    before = snapshot()
    response = client.generic(method, url, **_json(BODIES.get((method, path))))
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert_problem(response, expected)
    wrote = method != "GET" and expected < 400
    assert (snapshot() != before) is wrote  # refusals and reads change nothing


@pytest.mark.parametrize(("method", "path", "role", "expected"), table(WEB))
def test_web(world, client, settings, method, path, role, expected):
    settings.METRICS_TOKEN = settings.HEALTH_TOKEN = ""  # the defaults; tokens: tables below
    if world.users[role] is not None:
        client.force_login(world.users[role])
    response = client.generic(method, path.format(lead=world.lead.pk))
    assert response.status_code == expected, response.content[:300]
    if expected == 302:
        assert response["Location"].startswith("/admin/login/")
    if path.startswith("/health/db") and expected >= 400:
        assert response["Content-Type"] == "application/problem+json"


def test_staff_without_lead_permissions_cannot_open_the_lead_admin(client, lead):
    clerk = UserFactory(username="clerk", is_staff=True)
    client.force_login(clerk)
    assert client.get("/admin/leads/lead/").status_code == 403
    clerk.user_permissions.add(Permission.objects.get(codename="view_lead"))
    assert client.get("/admin/leads/lead/").status_code == 200
    assert client.post(f"/admin/leads/lead/{lead.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Lead.objects.filter(pk=lead.pk).exists()


def test_an_inactive_users_token_and_session_stop_working(client, lead):
    former = UserFactory(username="former")
    token = Token.objects.create(user=former).key
    client.force_login(former)
    former.is_active = False
    former.save()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert_problem(api.get("/api/v1/leads/"), 401)
    assert_problem(api.post("/api/v1/leads/", new_lead(), format="json"), 401)
    assert_problem(client.get("/api/v1/leads/"), 401)
    assert Lead.objects.count() == 1


# --- /metrics and /health/db-stats tokens ------------------------------------------------------

# METRICS_TOKEN, Authorization header, staff session?, expected status.
METRICS = [
    ("", None, False, 200),
    ("metrics-token", None, False, 401),
    ("metrics-token", None, True, 401),  # a session is no scrape credential
    ("metrics-token", "Bearer wrong", False, 401),
    ("metrics-token", "Token metrics-token", False, 401),
    ("metrics-token", "Bearer metrics-token", False, 200),
]

# HEALTH_TOKEN, Authorization header, session of, expected status.
DB_STATS = [
    ("", "Bearer ", None, 401),  # no token configured: none is accepted
    ("health-token", None, None, 401),
    ("health-token", "Bearer wrong", None, 403),
    ("health-token", "Bearer health-token", None, 200),
    ("health-token", "Bearer health-token", "user", 200),
    ("health-token", None, "user", 403),
    ("health-token", None, "staff", 200),
]


@pytest.mark.parametrize(("token", "authorization", "staff_session", "expected"), METRICS)
def test_metrics(client, settings, staff_user, token, authorization, staff_session, expected):
    settings.METRICS_TOKEN = token
    if staff_session:
        client.force_login(staff_user)
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = client.get("/metrics", **headers)
    assert response.status_code == expected
    if expected == 401:
        assert response["Content-Type"] == "application/problem+json"
        assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
        assert b"metrics-token" not in response.content
    else:
        assert b"django_http_requests" in response.content


@pytest.mark.parametrize(("token", "authorization", "session", "expected"), DB_STATS)
def test_db_stats(client, settings, world, token, authorization, session, expected):
    settings.HEALTH_TOKEN = token
    if session:
        client.force_login(world.users[session])
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = client.get("/health/db-stats", **headers)
    assert response.status_code == expected
    assert response["Cache-Control"] == "no-store"
    if expected >= 400:
        assert response["Content-Type"] == "application/problem+json"


# --- CSRF on session-authenticated writes ------------------------------------------------------

WRITES = [
    ("POST", "/api/v1/leads/", 201),
    ("PUT", "/api/v1/leads/{lead}/", 200),
    ("PATCH", "/api/v1/leads/{lead}/", 200),
    ("DELETE", "/api/v1/leads/{lead}/", 204),
    ("POST", "/api/v1/leads/{lead}/transition/", 200),
    ("POST", "/api/v1/leads/{deleted}/restore/", 200),
    ("POST", "/api/v1/leads/import/", 201),
]


@pytest.fixture
def session_client(world):
    """A logged-in browser: Django's test client with CSRF checks on, and a CSRF cookie."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["user"])
    client.get("/admin/login/")  # any page with a form sets the cookie
    return client


def _write(client, world, method, path, **extra):
    url = path.format(lead=world.lead.pk, deleted=world.deleted.pk)
    return client.generic(method, url, **_json(BODIES.get((method, path))), **extra)


@pytest.mark.parametrize(("method", "path", "success"), WRITES)
def test_session_write_without_csrf_token_is_403_and_changes_nothing(
    world, session_client, method, path, success
):
    before = snapshot()
    body = assert_problem(_write(session_client, world, method, path), 403)
    assert "CSRF" in body["detail"]
    assert snapshot() == before


@pytest.mark.parametrize(("method", "path", "success"), WRITES)
def test_session_write_with_csrf_token_succeeds(world, session_client, method, path, success):
    token = session_client.cookies["csrftoken"].value
    response = _write(session_client, world, method, path, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == success, response.content


def test_session_write_with_a_forged_token_is_403(world, session_client):
    response = _write(session_client, world, "POST", "/api/v1/leads/", HTTP_X_CSRFTOKEN="x" * 32)
    assert_problem(response, 403)
    assert Lead.objects.count() == 2


def test_session_write_from_another_origin_is_403_even_with_the_token(world, session_client):
    token = session_client.cookies["csrftoken"].value
    forged = _write(
        session_client,
        world,
        "POST",
        "/api/v1/leads/",
        HTTP_X_CSRFTOKEN=token,
        HTTP_ORIGIN="https://evil.example",
    )
    assert "Origin" in assert_problem(forged, 403)["detail"]
    same_origin = _write(
        session_client,
        world,
        "POST",
        "/api/v1/leads/",
        HTTP_X_CSRFTOKEN=token,
        HTTP_ORIGIN="http://testserver",
    )
    assert same_origin.status_code == 201


def test_session_reads_need_no_csrf_token(world, session_client):
    assert session_client.get("/api/v1/leads/").status_code == 200


@pytest.mark.parametrize(("method", "path", "success"), WRITES)
def test_token_writes_need_no_csrf_token(world, method, path, success):
    client = APIClient(enforce_csrf_checks=True)
    token = Token.objects.create(user=world.users["user"]).key
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert _write(client, world, method, path).status_code == success


def test_admin_form_post_without_csrf_token_is_403(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["staff"])
    response = client.post(
        "/admin/leads/lead/add/",
        {"first_name": "Eve", "last_name": "X", "email": "eve@example.com", "source": "web"},
    )
    assert response.status_code == 403
    assert not Lead.objects.filter(email="eve@example.com").exists()
