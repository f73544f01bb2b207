"""HTTPS as production serves it: plain HTTP is redirected, except probes and scrapes; HSTS,
secure cookies and the protective headers are on; a client cannot claim HTTPS by header."""

import pytest
import yaml

from leads.models import Lead
from tests.servers import ROOT

pytestmark = pytest.mark.django_db

PROBES = [
    "/health/ping",
    "/health/ping/",
    "/health/alive",
    "/health/ready",
    "/metrics",
    "/metrics/",
]
REDIRECTED = ["/api/v1/leads/", "/api/schema/", "/admin/", "/status/", "/"]


@pytest.fixture
def production_https(settings):
    # The suite turns the redirect off for the plain-HTTP test client (tests/conftest.py); the
    # rest of the production security settings are what the suite already runs with.
    settings.SECURE_SSL_REDIRECT = True
    return settings


@pytest.mark.parametrize("path", REDIRECTED)
def test_plain_http_is_redirected_to_https(client, production_https, path):
    response = client.get(path)
    assert response.status_code == 301
    assert response["Location"] == f"https://testserver{path}"


@pytest.mark.parametrize("path", PROBES)
def test_probes_and_scrapes_are_never_redirected(client, production_https, path):
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)


def test_every_kubernetes_probe_and_scrape_path_is_exempt(client, production_https):
    """The manifests turn the redirect on; kubelet and Prometheus still get their 200."""
    k8s = ROOT / "deploy" / "k8s"
    container = yaml.safe_load((k8s / "deployment.yaml").read_text())["spec"]["template"]["spec"][
        "containers"
    ][0]
    monitor = yaml.safe_load((k8s / "prometheus-operator" / "servicemonitor.yaml").read_text())
    paths = {container[probe]["httpGet"]["path"] for probe in ("startupProbe", "livenessProbe",
             "readinessProbe")}  # fmt: skip
    paths |= {endpoint["path"] for endpoint in monitor["spec"]["endpoints"]}
    assert len(paths) == 4
    for path in paths:
        assert client.get(path).status_code == 200, path


def test_a_write_over_plain_http_is_redirected_and_changes_nothing(api_client, production_https):
    body = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}
    response = api_client.post("/api/v1/leads/", body, format="json")
    assert response.status_code == 301
    assert not Lead.objects.exists()


def test_https_responses_carry_hsts(api_client, production_https):
    response = api_client.get("/api/v1/leads/", secure=True)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_a_client_cannot_claim_https_by_header(api_client, production_https):
    settings = production_https
    settings.SECURE_PROXY_SSL_HEADER = None  # no proxy declared (DJANGO_BEHIND_PROXY=false)
    response = api_client.get("/api/v1/leads/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 301


def test_behind_a_proxy_its_forwarded_proto_counts(api_client, production_https):
    production_https.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    response = api_client.get("/api/v1/leads/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert "Strict-Transport-Security" in response
    assert api_client.get("/api/v1/leads/", HTTP_X_FORWARDED_PROTO="http").status_code == 301


def test_session_and_csrf_cookies_are_secure_and_session_is_http_only(client, staff_user):
    login = client.get("/admin/login/", secure=True)
    assert login.cookies["csrftoken"]["secure"] is True
    response = client.post(
        "/admin/login/",
        {
            "username": staff_user.username,
            "password": "correct horse battery staple",
            "csrfmiddlewaretoken": login.cookies["csrftoken"].value,
        },
        secure=True,
    )
    assert response.status_code == 302, response.content
    session = response.cookies["sessionid"]
    assert session["secure"] is True
    assert session["httponly"] is True


def test_protective_headers_on_api_admin_and_errors(api_client, client):
    for response in (
        api_client.get("/api/v1/leads/"),
        client.get("/admin/login/"),
        client.get("/api/v1/leads/"),  # a 401 problem
    ):
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"
