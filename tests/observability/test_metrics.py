"""Prometheus metrics: exact counter movements, real pool state, bounded labels, auth,
promtool's verdict, and correctness under gunicorn's multiprocess mode with recycling."""

import os
import re
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from leads.models import LeadStatus
from observability import metrics
from tests.servers import free_port, gunicorn, http_get, migrated_database_url, server_env

LEADS = "/api/v1/leads/"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Delta:
    """Sample values before and after a block, like django-prometheus' assert_metric_diff."""

    def __init__(self, *samples):
        self.samples = samples

    def __enter__(self):
        self.before = [value(name, **labels) for name, labels in self.samples]
        return self

    def __exit__(self, *exc):
        self.after = [value(name, **labels) for name, labels in self.samples]

    @property
    def changes(self) -> list[float]:
        return [after - before for before, after in zip(self.before, self.after, strict=True)]


@pytest.mark.django_db
def test_request_counters_move_by_exactly_one_per_request(api_client):
    labels = {"method": "GET", "view": "api/v1/leads/"}
    with Delta(
        ("django_http_responses_total_by_status_view_method_total", {"status": "200", **labels}),
        ("django_http_requests_latency_seconds_by_view_method_count", labels),
        ("django_http_requests_total_by_method_total", {"method": "GET"}),
    ) as delta:
        for _ in range(3):
            assert api_client.get(LEADS).status_code == 200
    assert delta.changes == [3, 3, 3]


@pytest.mark.django_db
def test_database_counters_count_every_query(api_client, lead):
    vendor = connection.vendor
    with (
        Delta(("django_db_execute_total", {"alias": "default", "vendor": vendor})) as delta,
        CaptureQueriesContext(connection) as queries,
    ):
        api_client.get(f"{LEADS}{lead.pk}/")
    assert delta.changes == [len(queries)]
    assert len(queries) > 0


@pytest.mark.postgres
def test_counting_cursor_class_is_built_once_not_per_connect():
    """django-prometheus builds one per connect(), per request with the pool; ours reuses it."""
    first = connection.get_connection_params()["cursor_factory"]
    second = connection.get_connection_params()["cursor_factory"]
    assert first is second
    assert first.__name__ == "CountingCursor"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_failed_queries_are_counted_by_error_type():
    from django.db import DatabaseError

    labels = {"alias": "default", "vendor": "postgresql", "type": "UndefinedTable"}
    with (
        Delta(("django_db_errors_total", labels)) as delta,
        pytest.raises(DatabaseError),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT * FROM no_such_table")
    assert delta.changes == [1]


@pytest.mark.django_db
@pytest.mark.urls("tests.observability.urls")
def test_a_lost_database_answered_503_by_the_api_still_counts_as_an_exception(api_client):
    by_type = ("django_http_exceptions_total_by_type_total", {"type": "OperationalError"})
    by_view = ("django_http_exceptions_total_by_view_total", {"view": "database-gone"})
    with Delta(by_type, by_view) as delta:
        response = api_client.get("/api/v1/database-gone/")
    assert response.status_code == 503
    assert delta.changes == [1, 1]


@pytest.mark.django_db
def test_unknown_methods_and_unmatched_paths_fold_into_one_value(client):
    with Delta(
        (
            "django_http_requests_latency_seconds_by_view_method_count",
            {"method": "<invalid method>", "view": "<unmatched>"},
        ),
    ) as delta:
        client.generic("FOOBAR", "/no/such/path/42")
        client.generic("BAZQUX", "/another/path/43")
    assert delta.changes == [2]


@pytest.mark.django_db(transaction=True)  # business counters move on commit
def test_business_counters_move_on_commit(api_client):
    created = ("intelliflow_leads_created_total", {"source": "referral"})
    moved = (
        "intelliflow_lead_status_transitions_total",
        {"from_status": "new", "to_status": "contacted"},
    )
    imported = ("intelliflow_lead_import_rows_total", {"outcome": "created"})
    rejected = ("intelliflow_lead_import_rows_total", {"outcome": "rejected"})
    with Delta(created, moved, imported, rejected) as delta:
        body = {"first_name": "A", "last_name": "B", "email": "a@m.example", "source": "referral"}
        lead_id = api_client.post(LEADS, body).json()["id"]
        api_client.post(f"{LEADS}{lead_id}/transition/", {"status": LeadStatus.CONTACTED})
        rows = [{**body, "email": f"r{n}@m.example"} for n in range(3)]
        assert api_client.post(f"{LEADS}import/", rows, format="json").status_code == 201
        bad = [{**body, "email": "r9@m.example"}, {**body, "email": "not-an-email"}]
        assert api_client.post(f"{LEADS}import/", bad, format="json").status_code == 400
        api_client.post(LEADS, {**body, "email": "A@M.example"})  # duplicate: nothing committed
    assert delta.changes == [4, 1, 3, 2]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_pool_gauges_follow_the_real_pool(settings):
    holding, release = threading.Barrier(4), threading.Event()

    def hold_a_connection():
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT 1")
                holding.wait(timeout=10)
                release.wait(timeout=10)
        finally:
            connections["default"].close()  # back to the pool

    requests_before = value("intelliflow_db_pool_requests_total", alias="default")
    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(hold_a_connection) for _ in range(3)]
        holding.wait(timeout=10)
        metrics.sample()
        in_use_during = value("intelliflow_db_pool_connections", alias="default", state="in_use")
        release.set()
        for future in futures:
            future.result()
    metrics.sample()
    assert in_use_during >= 3
    assert value("intelliflow_db_pool_connections", alias="default", state="in_use") == 0
    assert value("intelliflow_db_pool_connections", alias="default", state="idle") >= 3
    assert value("intelliflow_db_pool_max_connections", alias="default") == 4
    assert value("intelliflow_db_pool_requests_waiting", alias="default") == 0
    assert value("intelliflow_db_pool_requests_total", alias="default") - requests_before >= 3


def test_process_gauges_describe_this_process():
    metrics.sample()
    assert value("intelliflow_process_resident_memory_bytes") > 10_000_000
    assert value("intelliflow_process_open_fds") > 3
    assert value("intelliflow_process_cpu_seconds_total") > 0
    assert abs(value("intelliflow_process_start_time_seconds") - time.time()) < 24 * 3600


def test_build_info():
    assert (
        value(
            "intelliflow_build_info",
            version="0.1.0",
            django="5.2.19",
            python=os.sys.version.split()[0],
        )
        == 1
    )


@pytest.mark.django_db
class TestMetricsToken:
    def test_open_without_a_token(self, client):
        assert client.get("/metrics").status_code == 200

    def test_token_required_when_set(self, client, settings):
        settings.METRICS_TOKEN = "scrape-secret"
        response = client.get("/metrics")
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
        ok = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret")
        assert ok.status_code == 200
        assert ok["Content-Type"].startswith("text/plain")


def label_values(exposition: str) -> list[str]:
    return [
        label
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        for label in sample.labels.values()
    ]


@pytest.mark.django_db
def test_no_label_holds_an_id_an_email_or_a_raw_path(api_client, client, lead_factory):
    lead = lead_factory(email="label.leak@example.com")
    api_client.get(f"{LEADS}{lead.pk}/")
    api_client.get(LEADS, {"search": lead.email})
    api_client.get(f"{LEADS}{lead.pk}/not-here/")
    api_client.post(f"{LEADS}{lead.pk}/transition/", {"status": "contacted"})
    for value_ in label_values(client.get("/metrics").content.decode()):
        assert not UUID.search(value_), value_
        assert "@" not in value_, value_
        assert str(lead.pk) not in value_


def promtool_check(exposition: bytes) -> subprocess.CompletedProcess:
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is missing in CI (.ci/run installs Debian's prometheus)")
        pytest.skip("promtool not installed (apt-get install prometheus)")
    return subprocess.run(
        [promtool, "check", "metrics"],
        input=exposition,
        capture_output=True,
        timeout=30,
        check=False,
    )


@pytest.mark.django_db
def test_promtool_finds_no_problem_in_a_real_scrape(api_client, client):
    api_client.get(LEADS)
    result = promtool_check(client.get("/metrics").content)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == b"", result.stdout


def scrape(port: int) -> str:
    status, body, _ = http_get(f"http://127.0.0.1:{port}/metrics")
    assert status == 200
    return body.decode()


def sample_value(exposition: str, name: str, **labels) -> float:
    total = 0.0
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                total += sample.value
    return total


def pids(exposition: str) -> set[str]:
    return {
        sample.labels["pid"]
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == "intelliflow_process_cpu_seconds_total"
    }


@pytest.mark.postgres
@pytest.mark.django_db
def test_multiprocess_counts_exactly_across_workers_and_recycling(tmp_path):
    directory = tmp_path / "prometheus"
    port = free_port()
    env = server_env(
        DATABASE_URL=migrated_database_url(),
        PROMETHEUS_MULTIPROC_DIR=str(directory),
        GUNICORN_MAX_REQUESTS="25",
        GUNICORN_MAX_REQUESTS_JITTER="5",
        METRICS_SAMPLE_SECONDS="0.2",
    )
    # alive, not ping: ping is answered in front of Django (health/fastpath.py), uncounted.
    probe = {"method": "GET", "view": "health/alive", "status": "200"}
    name = "django_http_responses_total_by_status_view_method_total"
    with gunicorn(env, port, workers=2):
        before = sample_value(scrape(port), name, **probe)
        requests = 150  # each worker serves at most ~30: several recycles on the way
        with ThreadPoolExecutor(6) as pool:
            statuses = list(
                pool.map(
                    lambda _: http_get(f"http://127.0.0.1:{port}/health/alive")[0], range(requests)
                )
            )
        assert statuses == [200] * requests
        # Recycled workers exit and their successors boot and sample: wait for that, bounded.
        deadline = time.monotonic() + 20
        while True:
            exposition = scrape(port)
            settled = len(pids(exposition)) == 2
            if settled or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert sample_value(exposition, name, **probe) - before == requests
        assert len(pids(exposition)) == 2  # dead workers' live gauges are gone
        files = sorted(path.name for path in directory.glob("*.db"))
        assert any(name.endswith("_archive.db") for name in files)
        # Per live worker a handful of files, plus one archive per summed type.
        assert len(files) <= 2 * 6 + 3, files
        result = promtool_check(exposition.encode())
        assert result.returncode == 0, result.stdout + result.stderr


def test_every_business_counter_exists_for_every_label_value_from_the_start(client, settings):
    """rate()/increase() on a fresh pod see 0, not nothing (the leads app's ready())."""
    from leads.models import ALLOWED_TRANSITIONS, LeadSource

    settings.METRICS_TOKEN = ""
    text = client.get("/metrics").content.decode()
    for source in LeadSource.values:
        assert f'intelliflow_leads_created_total{{source="{source}"}}' in text
    for from_status, to_statuses in ALLOWED_TRANSITIONS.items():
        for to_status in to_statuses:
            assert (
                "intelliflow_lead_status_transitions_total"
                f'{{from_status="{from_status}",to_status="{to_status}"}}'
            ) in text
    for outcome in ("created", "rejected"):
        assert f'intelliflow_lead_import_rows_total{{outcome="{outcome}"}}' in text
