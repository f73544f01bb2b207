"""What the security tests send never reaches a log line: credentials, cookies, CSRF tokens,
probe tokens, a lead's e-mail and phone, whether the request is served or refused."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.leads.api import new_lead

pytestmark = pytest.mark.django_db

EMAIL = "ada.private@example.com"
PHONE = "+1 555 867 5309"


def test_no_secret_or_personal_data_in_the_logs(json_logs, settings, token, user):
    settings.METRICS_TOKEN = "metrics-token-value"
    settings.HEALTH_TOKEN = "health-token-value"
    lead = new_lead(email=EMAIL, phone=PHONE)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    api.post("/api/v1/leads/", lead, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    api.post("/api/v1/leads/", lead, format="json", HTTP_IDEMPOTENCY_KEY="k-1")  # replay
    api.post("/api/v1/leads/", lead, format="json")  # duplicate e-mail: 400
    api.post("/api/v1/leads/", {**lead, "score": 500}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    api.get("/api/v1/leads/", {"search": EMAIL})
    api.post(
        "/api/v1/leads/",
        "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1),
        content_type="application/json",
    )
    api.post("/api/v1/leads/", new_lead(email=EMAIL), format="json", HTTP_HOST="evil.example")

    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION="Token wrong-token-value")
    stranger.get("/api/v1/leads/")

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    browser.get("/admin/login/")
    csrf = browser.cookies["csrftoken"].value
    session = browser.cookies["sessionid"].value
    browser.post("/api/v1/leads/", new_lead(email=EMAIL), content_type="application/json")
    browser.post(
        "/admin/login/",
        {
            "username": user.username,
            "password": "wrong-password-value",
            "csrfmiddlewaretoken": csrf,
        },
    )
    for bearer in ("metrics-token-value", "wrong-bearer-value"):
        browser.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {bearer}")
        browser.get("/health/db-stats", HTTP_AUTHORIZATION=f"Bearer {bearer}")

    records = json_logs.records()
    logged = {record["message"] for record in json_logs.by_logger("intelliflow.access")}
    assert {  # the requests were logged, served and refused alike
        "POST /api/v1/leads/ 201", "POST /api/v1/leads/ 400", "POST /api/v1/leads/ 403",
        "POST /api/v1/leads/ 413", "GET /api/v1/leads/ 401", "POST /admin/login/ 200",
    } <= logged  # fmt: skip
    secrets = [
        token.key, "wrong-token-value", session, csrf, "wrong-password-value",
        "metrics-token-value", "health-token-value", "wrong-bearer-value", EMAIL, "ada.private",
        PHONE, "867 5309",
    ]  # fmt: skip
    for secret in secrets:
        assert secret not in json_logs.text, (secret, [r for r in records if secret in str(r)])
