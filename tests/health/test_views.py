"""The probe endpoints over HTTP (Django test client, real PostgreSQL in CI)."""

import jsonschema
import pytest
from django.urls import resolve

from tests.health.schema import FULL_HEALTH, HEALTH

pytestmark = pytest.mark.django_db

HEALTH_JSON = "application/health+json"
PROBES = ["ping", "alive", "ready", "check"]


def assert_health(response, status_code: int, schema=FULL_HEALTH) -> dict:
    assert response.status_code == status_code, response.content
    assert response["Content-Type"] == HEALTH_JSON
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    jsonschema.validate(body, schema)
    return body


@pytest.mark.parametrize("probe", [*PROBES, "db-stats", "dbStats"])
@pytest.mark.parametrize("slash", ["", "/"])
def test_both_slash_forms_answer_without_redirect(admin_client, probe, slash):
    response = admin_client.get(f"/health/{probe}{slash}")
    assert response.status_code == 200


def test_ping_touches_nothing(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health/ping")
    assert assert_health(response, 200, HEALTH) == {"status": "pass"}


def test_alive_reports_the_process(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        body = assert_health(client.get("/health/alive"), 200)
    assert body["status"] == "pass"
    assert body["pid"] > 0
    assert body["checks"]["process:residentMemory"][0]["observedUnit"] == "bytes"
    assert body["checks"]["process:residentMemory"][0]["observedValue"] > 10_000_000
    assert body["checks"]["process:uptime"][0]["observedUnit"] == "s"
    assert body["checks"]["process:threads"][0]["observedValue"] >= 1


def test_alive_fails_over_the_memory_limit(client, settings):
    settings.HEALTH_MAX_RSS_BYTES = 1024
    body = assert_health(client.get("/health/alive"), 503)
    assert "resident memory" in body["checks"]["process:residentMemory"][0]["output"]


def test_ready_checks_database_and_migrations(client):
    body = assert_health(client.get("/health/ready"), 200)
    assert body["status"] == "pass"
    assert body["checks"]["database:responseTime"][0]["observedUnit"] == "ms"
    assert body["checks"]["database:pendingMigrations"][0]["observedValue"] == 0
    assert body["checks"]["process:draining"][0]["observedValue"] is False


def test_check_reports_everything_with_context(client):
    body = assert_health(client.get("/health/check", HTTP_X_REQUEST_ID="hc-1"), 200)
    assert body["correlation_id"] == "hc-1"
    assert body["environment"]
    assert {"database:responseTime", "databasePool:utilization", "process:uptime"} <= set(
        body["checks"]
    )


def test_slow_database_warns_and_still_answers_200(client, settings):
    settings.HEALTH_DATABASE_WARN_MS = 0
    body = assert_health(client.get("/health/check"), 200)
    assert body["status"] == "warn"
    assert body["checks"]["database:responseTime"][0]["status"] == "warn"


@pytest.mark.parametrize("probe", [*PROBES, "db-stats"])
def test_probes_are_never_wrapped_in_a_request_transaction(probe):
    # What Django's ATOMIC_REQUESTS consults before wrapping a view in a transaction.
    assert "default" in resolve(f"/health/{probe}").func._non_atomic_requests


def test_probe_rejects_writes(client):
    assert client.post("/health/ready").status_code == 405


class TestDbStats:
    def test_anonymous_is_refused_with_a_challenge(self, client):
        response = client.get("/health/db-stats")
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert response["Content-Type"] == "application/problem+json"

    def test_non_staff_session_is_forbidden(self, client, user):
        client.force_login(user)
        assert client.get("/health/db-stats").status_code == 403

    def test_wrong_token_is_forbidden(self, client, settings):
        settings.HEALTH_TOKEN = "right-token"
        response = client.get("/health/db-stats", HTTP_AUTHORIZATION="Bearer wrong-token")
        assert response.status_code == 403

    def test_token_is_accepted(self, client, settings):
        settings.HEALTH_TOKEN = "right-token"
        response = client.get("/health/db-stats", HTTP_AUTHORIZATION="Bearer right-token")
        assert response.status_code == 200
        assert response["Cache-Control"] == "no-store"

    def test_no_token_configured_means_no_token_accepted(self, client, settings):
        settings.HEALTH_TOKEN = ""
        assert client.get("/health/db-stats", HTTP_AUTHORIZATION="Bearer ").status_code == 401

    @pytest.mark.postgres
    def test_shows_real_postgres_and_pool_numbers_after_traffic(
        self, admin_client, api_client, lead_factory
    ):
        lead_factory.create_batch(3)
        for _ in range(5):
            api_client.get("/api/v1/leads/")
        body = admin_client.get("/health/db-stats").json()
        assert body["database"]["vendor"] == "postgresql"
        assert body["database"]["serverVersion"][0].isdigit()
        assert body["database"]["sizeBytes"] > 0
        assert body["pool"]["requests_num"] >= 1
        assert body["pool"]["pool_max"] >= body["pool"]["pool_size"] >= 1
        assert sum(body["connectionsByState"].values()) >= 1
        assert body["counters"]["xact_commit"] > 0


def test_status_page_shows_the_checks_for_people(client):
    response = client.get("/status/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    content = response.content.decode()
    assert "IntelliFlow CRM" in content
    assert 'class="badge pass"' in content
    assert "database" in content
