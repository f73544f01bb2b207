"""Every error under /api/, /health and /metrics is a problem (RFC 9457), including those that
Django and DRF answer before any of our views runs; people's pages (the admin) keep HTML.

The clients here enforce CSRF, as browsers and real HTTP clients meet it: Django's test client
skips the check by default, which hid the CSRF 403s that write methods got on read-only views.
"""

import json

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path

from intelliflow import urls as intelliflow_urls
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "correlation_id"}
LEADS = "/api/v1/leads/"
READ_ONLY = [
    "/health/ping",
    "/health/ping/",
    "/health/alive",
    "/health/ready",
    "/health/check",
    "/health/db-stats",
    "/health/dbStats",
    "/metrics",
    "/metrics/",
]


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == PROBLEM
    body = json.loads(response.content)  # the bytes themselves, whatever renderer ran
    assert set(body) >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    return body


def browser() -> Client:
    return Client(enforce_csrf_checks=True)


def api(token) -> Client:
    """A token client that also carries a session cookie, as a browser-made call would."""
    client = browser()
    client.cookies["sessionid"] = "whatever"
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token.key}"
    return client


# Each case: how to send it (client, lead -> response), then the expected status.
CASES = {
    "413 body over DATA_UPLOAD_MAX_MEMORY_SIZE": (
        lambda client, lead: client.post(
            LEADS, "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1), "application/json"
        ),
        413,
    ),
    "400 too many form fields": (
        lambda client, lead: client.post(
            LEADS,
            "&".join(f"f{n}=1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)),
            "application/x-www-form-urlencoded",
        ),
        400,
    ),
    "400 DisallowedHost on the API": (
        lambda client, lead: client.get(LEADS, HTTP_HOST="evil.example"),
        400,
    ),
    "400 DisallowedHost on a probe": (
        lambda client, lead: client.get("/health/ready", HTTP_HOST="evil.example"),
        400,
    ),
    "400 DisallowedHost on /metrics": (
        lambda client, lead: client.get("/metrics", HTTP_HOST="evil.example"),
        400,
    ),
    "404 unknown /health/ URL": (lambda client, lead: client.get("/health/xyz"), 404),
    "404 unknown /health/ URL, POST": (lambda client, lead: client.post("/health/xyz/"), 404),
    "404 unknown /metrics/ URL": (lambda client, lead: client.get("/metrics/xyz"), 404),
    "405 wrong method on a lead": (lambda client, lead: client.post(f"{LEADS}{lead.pk}/"), 405),
    "415 unsupported media type": (
        lambda client, lead: client.post(LEADS, "a,b", content_type="text/plain"),
        415,
    ),
    "406 Accept the API cannot give": (
        lambda client, lead: client.get(LEADS, HTTP_ACCEPT="text/html-only"),
        406,
    ),
    "404 schema in an unknown format": (
        lambda client, lead: client.get("/api/schema/", {"format": "bogus"}),
        404,
    ),
    "406 schema in an unknown media type": (
        lambda client, lead: client.get("/api/schema/", HTTP_ACCEPT="text/bogus"),
        406,
    ),
    "404 docs in an unknown format": (
        lambda client, lead: client.get("/api/docs/", {"format": "bogus"}),
        404,
    ),
    **{
        f"405 {method} {url}": (
            lambda client, lead, method=method, url=url: client.generic(method, url),
            405,
        )
        for url in READ_ONLY
        for method in ("POST", "DELETE")
    },
}


@pytest.mark.parametrize(("send", "status"), CASES.values(), ids=CASES.keys())
def test_every_error_is_a_problem(token, lead, send, status):
    assert_problem(send(api(token), lead), status)


@pytest.mark.parametrize("url", READ_ONLY)
def test_read_only_endpoints_say_which_methods_they_allow(url):
    response = browser().post(url)
    assert_problem(response, 405)
    assert response["Allow"] == "GET, HEAD"


def test_the_status_page_answers_405_not_a_csrf_page():
    # A page for people: no problem body needed, but the truth (405), with Allow.
    response = browser().post("/status/")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


def test_a_server_error_on_a_probe_is_a_problem(monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("health.views.health_body", crash)
    client = Client(raise_request_exception=False)
    body = assert_problem(client.get("/health/check"), 500)
    assert "boom" not in json.dumps(body)


# --- CSRF failures -----------------------------------------------------------------------------


def csrf_protected_write(request):
    return HttpResponse("written")  # never reached without a CSRF token


# The project's routes plus plain (CSRF-protected) views under each prefix: nothing of ours
# under /api/ or /health/ meets Django's CSRF check today, but any view added there would.
urlpatterns = [
    path("api/csrf-protected/", csrf_protected_write),
    path("health/csrf-protected", csrf_protected_write),
    path("metrics/csrf-protected", csrf_protected_write),
    path("", include("intelliflow.urls")),
]
# Django takes the error handlers from the root URLconf, which is this module in these tests.
handler400 = intelliflow_urls.handler400
handler404 = intelliflow_urls.handler404
handler500 = intelliflow_urls.handler500


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    "url", ["/api/csrf-protected/", "/health/csrf-protected", "/metrics/csrf-protected"]
)
def test_a_csrf_failure_is_a_problem_for_machine_paths(url):
    body = assert_problem(browser().post(url), 403)
    assert body["type"].endswith("/permission-denied")  # as DRF words its own
    assert body["detail"].startswith("CSRF Failed: ")


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("url", ["/api/csrf-protected/", "/health/csrf-protected"])
@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("f=" + "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE, 413),
        ("&".join(f"f{n}=1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)), 400),
    ],
    ids=["body too large", "too many fields"],
)
def test_request_limits_met_before_any_view_are_problems(url, body, status):
    # The CSRF check reads the form body for its token before the view runs: Django's limits
    # then fail the request there, and handler400 answers.
    client = browser()
    client.cookies["csrftoken"] = "a" * 32  # well-formed, so the body is read
    response = client.post(url, body, content_type="application/x-www-form-urlencoded")
    assert_problem(response, status)


def test_a_csrf_failure_on_the_admin_keeps_djangos_page_for_people():
    response = browser().post("/admin/login/", {"username": "a", "password": "b"})
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    assert b"CSRF" in response.content


def test_a_csrf_failure_on_a_session_write_to_the_api_stays_a_problem():
    # DRF enforces CSRF itself for session-authenticated writes: already a problem, kept so.
    client = browser()
    client.force_login(UserFactory())
    assert_problem(client.post(LEADS, {}, content_type="application/json"), 403)
