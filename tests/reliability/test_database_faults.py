"""The database fails, for real, on the wire: cut and stalled through a fault proxy, then back.

In process (Django's test client, the real SDKs): a lost database is a 503 problem (or a short
page for the admin) with Retry-After, logged once as a WARNING with the correlation ID, and
no Sentry event. Under gunicorn: probes, the time bounds, recovery, and no acknowledged lead
lost or doubled.
"""

import json
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import pytest
from django.db import close_old_connections, connections
from django.db.models import Count

from common.database import bounded_connection_class
from leads.models import Lead
from tests.reliability.conftest import json_lines
from tests.reliability.faultproxy import FaultProxy
from tests.servers import free_port, gunicorn, http_request, migrated_database_url, server_env

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# --- In process ------------------------------------------------------------------------------


# Short bounds for the in-process pool, so a stall costs the test about a second.
IN_PROCESS_BOUND, IN_PROCESS_POOL_TIMEOUT = 1.5, 1.0


@pytest.fixture
def database_behind_proxy(transactional_db):
    """Django's default connection (and its pool) goes through a FaultProxy for the test."""
    connection = connections["default"]
    settings_dict = connection.settings_dict
    port, options = settings_dict["PORT"], settings_dict["OPTIONS"]
    with FaultProxy() as proxy:
        connection.close()
        connection.close_pool()  # the pool keeps the connect parameters it was built with
        settings_dict["PORT"] = str(proxy.port)
        settings_dict["OPTIONS"] = options | {
            "pool": options["pool"]
            | {
                "min_size": 3,
                "timeout": IN_PROCESS_POOL_TIMEOUT,
                "connection_class": bounded_connection_class(IN_PROCESS_BOUND),
            }
        }
        try:
            yield proxy
        finally:
            proxy.restore()
            connection.close()
            connection.close_pool()
            settings_dict["PORT"], settings_dict["OPTIONS"] = port, options
            # The next pool, filled now: no connection left half-open in a background thread
            # when the session drops the test database.
            connection.pool.open(wait=True)


def assert_unavailable_problem(response, correlation_id: str) -> None:
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert int(response["Retry-After"]) > 0
    body = response.json()
    assert body["status"] == 503
    assert body["type"].endswith("/service-unavailable")
    assert body["correlation_id"] == correlation_id
    assert "Traceback" not in response.content.decode()


@pytest.mark.parametrize("fault", ["cut", "stall"])
def test_api_answers_503_problem_logged_once_and_not_sent_to_sentry(
    fault, database_behind_proxy, api_client, sentry_transport, json_logs
):
    assert api_client.get("/api/v1/leads/").status_code == 200  # the pool's connection is open
    getattr(database_behind_proxy, fault)()

    started = time.monotonic()
    response = api_client.get("/api/v1/leads/", HTTP_X_CORRELATION_ID=f"db-{fault}")
    seconds = time.monotonic() - started

    assert_unavailable_problem(response, f"db-{fault}")
    assert seconds < max(IN_PROCESS_BOUND, IN_PROCESS_POOL_TIMEOUT) + 1.0
    assert sentry_transport.events() == []
    (line,) = [r for r in json_logs.by_logger("common.problems")
               if r["correlation_id"] == f"db-{fault}"]  # fmt: skip
    assert line["level"] == "WARNING"
    assert line["error.type"].endswith("OperationalError") or "NotAnswering" in line["error.type"]
    assert json_logs.by_logger("django.request") == []  # no "Service Unavailable" ERROR line


def test_admin_page_answers_503_page_and_db_stats_a_problem(
    database_behind_proxy, client, staff_user, sentry_transport, json_logs, settings
):
    settings.HEALTH_TOKEN = "health-secret"
    client.force_login(staff_user)  # the session is in the database, before the cut
    database_behind_proxy.cut()

    page = client.get("/admin/leads/lead/", HTTP_X_CORRELATION_ID="db-admin")
    assert page.status_code == 503
    assert page["Content-Type"].startswith("text/html")
    assert int(page["Retry-After"]) > 0
    assert "Service Unavailable" in page.content.decode()

    stats = client.get(
        "/health/db-stats", HTTP_AUTHORIZATION="Bearer health-secret", HTTP_X_CORRELATION_ID="db-s"
    )
    assert_unavailable_problem(stats, "db-s")

    assert sentry_transport.events() == []
    warned = {r["correlation_id"] for r in json_logs.records() if r["level"] == "WARNING"}
    assert {"db-admin", "db-s"} <= warned
    assert [r for r in json_logs.records() if r["level"] in {"ERROR", "CRITICAL"}] == []


def test_a_lost_connection_drains_its_pool_siblings(database_behind_proxy, api_client):
    """One broken connection says its idle siblings are broken too: they are replaced in the
    background, so the requests after the fault do not fail on them one by one."""
    pool = connections["default"].pool
    pool.open()
    pool.wait(timeout=5)
    assert pool.get_stats()["pool_available"] == 3
    database_behind_proxy.cut()  # resets all three
    assert get_then_finish(api_client, "/api/v1/leads/") == 503
    database_behind_proxy.restore()
    deadline = time.monotonic() + 5
    while pool.get_stats()["pool_available"] < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [get_then_finish(api_client, "/api/v1/leads/") for _ in range(3)] == [200] * 3


def get_then_finish(client, path: str) -> int:
    """A request, then what Django's request_finished signal does in a server (the test
    client disconnects it): a connection that had errors is checked and returned or dropped."""
    status = client.get(path).status_code
    close_old_connections()
    return status


# --- Under gunicorn ------------------------------------------------------------------------

STATEMENT_TIMEOUT = 1  # DB_STATEMENT_TIMEOUT: the client gives up one second after it
POOL_TIMEOUT = 1  # DB_POOL_TIMEOUT
# Longest an API call may take during a fault: the client's bound or the pool's, plus
# scheduling slack on a busy 2-core machine. gunicorn's own timeout (30 s) is far above.
CALL_BOUND = max(STATEMENT_TIMEOUT + 1, POOL_TIMEOUT) + 1.5
# The fault lasts long enough for at least two whole calls after the one in flight when it
# starts (each call up to CALL_BOUND, ~2 s on a stall), even on a loaded machine.
HEALTHY, FAULT, RECOVERY = 1.5, 9.0, 8.0  # seconds of each phase
READY_FAILS_WITHIN, READY_RECOVERS_WITHIN, API_RECOVERS_WITHIN = 2.0, 5.0, 5.0


@dataclass
class Call:
    method: str
    path: str
    started: float
    seconds: float
    status: int | str
    headers: dict = field(repr=False)
    body: bytes = field(repr=False)
    correlation_id: str = ""
    email: str = ""

    def json(self):
        return json.loads(self.body)


class Client:
    def __init__(self, base: str, token: str | None = None):
        self.base, self.token, self.calls = base, token, []

    def call(self, method: str, path: str, payload=None, email: str = "") -> Call:
        correlation_id = f"rel-{uuid.uuid4().hex[:12]}"
        headers = {"X-Correlation-ID": correlation_id}
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        body = None
        if payload is not None:
            body = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        started = time.monotonic()
        try:
            status, content, response_headers = http_request(
                method, self.base + path, body, headers, timeout=40
            )
            response_headers = dict(response_headers)
        except OSError as error:  # a reset or a hang up: exactly what must not happen
            status, content, response_headers = type(error).__name__, b"", {}
        call = Call(method, path, started, time.monotonic() - started, status,
                    response_headers, content, correlation_id, email)  # fmt: skip
        self.calls.append(call)
        return call


def write_and_read(client: Client, stop: threading.Event) -> None:
    """Create leads one after another, retrying a 503 with the same lead as a client honouring
    Retry-After would (only faster), and list between creates."""
    for number in range(1_000_000):
        if stop.is_set():
            return
        email = f"fault-{number}@reliability.example"
        payload = {"first_name": "Fault", "last_name": str(number), "email": email}
        while not stop.is_set():
            if client.call("POST", "/api/v1/leads/", payload, email).status != 503:
                break
            time.sleep(0.1)
        client.call("GET", "/api/v1/leads/?page_size=5")


def probe(client: Client, stop: threading.Event) -> None:
    while not stop.is_set():
        for path in ("/health/ping", "/health/alive", "/health/ready"):
            client.call("GET", path)
        time.sleep(0.1)


def in_phase(calls, start: float, end: float):
    return [call for call in calls if start <= call.started and call.started + call.seconds <= end]


@pytest.mark.parametrize("fault", ["cut", "stall"])
def test_gunicorn_rides_out_a_database_fault(fault, server_token, tmp_path):
    output = tmp_path / "server.log"
    with FaultProxy() as proxy:
        url = migrated_database_url().replace(
            f"@{connections['default'].settings_dict['HOST']}:"
            f"{connections['default'].settings_dict['PORT']}/",
            f"@127.0.0.1:{proxy.port}/",
        )
        env = server_env(
            DATABASE_URL=url,
            DB_STATEMENT_TIMEOUT=str(STATEMENT_TIMEOUT),
            DB_POOL_TIMEOUT=str(POOL_TIMEOUT),
            DB_CONNECT_TIMEOUT="2",
            HEALTH_DRAIN_SECONDS="0",
            API_THROTTLE_USER_RATE="100000/minute",  # the client runs flat out
        )
        port = free_port()
        with gunicorn(env, port, output=output):
            base = f"http://127.0.0.1:{port}"
            api, probes, stop = Client(base, server_token), Client(base), threading.Event()
            threads = [
                threading.Thread(target=write_and_read, args=(api, stop)),
                threading.Thread(target=probe, args=(probes, stop)),
            ]
            for thread in threads:
                thread.start()
            time.sleep(HEALTHY)
            fault_at = time.monotonic()
            getattr(proxy, fault)()
            time.sleep(FAULT)
            restored_at = time.monotonic()
            proxy.restore()
            time.sleep(RECOVERY)
            stop.set()
            for thread in threads:
                thread.join(timeout=CALL_BOUND + 5)
            ended = time.monotonic()

    def of(path):
        return [call for call in probes.calls if call.path == path]

    # Every call got an HTTP answer: no reset, no hang, no 500.
    everything = api.calls + probes.calls
    assert [c for c in everything if not isinstance(c.status, int)] == []
    assert [c for c in everything if c.status >= 500 and c.status != 503] == []

    # Liveness never wavers; readiness follows the database, both ways, in time.
    assert {c.status for c in of("/health/ping") + of("/health/alive")} == {200}
    assert max(c.seconds for c in of("/health/ping") + of("/health/alive")) < 1.0
    assert {c.status for c in in_phase(of("/health/ready"), 0, fault_at)} == {200}
    failing = [c for c in of("/health/ready") if c.started >= fault_at and c.status == 503]
    assert failing
    assert failing[0].started + failing[0].seconds <= fault_at + READY_FAILS_WITHIN
    during = in_phase(of("/health/ready"), failing[0].started, restored_at)
    assert {c.status for c in during} == {503}
    back = [c for c in of("/health/ready") if c.started >= restored_at and c.status == 200]
    assert back
    assert back[0].started + back[0].seconds <= restored_at + READY_RECOVERS_WITHIN
    assert {c.status for c in of("/health/ready") if c.started >= back[0].started} == {200}

    # API calls during the fault: a 503 problem with Retry-After, each within the bound.
    faulted = in_phase(api.calls, fault_at + 0.1, restored_at)
    assert len(faulted) >= 2, "too few calls during the fault to prove anything"
    for call in [c for c in api.calls if c.status == 503]:
        assert call.headers["Content-Type"] == "application/problem+json"
        assert int(call.headers["Retry-After"]) > 0
        assert call.json()["correlation_id"] == call.correlation_id
        assert call.seconds <= CALL_BOUND, call
    assert {c.status for c in faulted} == {503}
    # ... and after it, the API works again.
    late = in_phase(api.calls, restored_at + API_RECOVERS_WITHIN, ended)
    assert late
    assert {c.status for c in late} <= {200, 201}

    # Nothing acknowledged is lost, nothing exists twice. A create whose 503 hid a commit is
    # retried by the client and refused as a duplicate (400 on email): it exists once too.
    created = [c for c in api.calls if c.method == "POST" and c.status == 201]
    duplicates = [c for c in api.calls if c.method == "POST" and c.status == 400]
    assert created
    assert all(list(c.json()["errors"]) == ["email"] for c in duplicates)
    stored = dict(Lead.objects.values_list("email", "id"))
    assert all(str(stored[c.email]) == c.json()["id"] for c in created)
    assert all(c.email in stored for c in duplicates)
    assert not Lead.objects.values("email").annotate(n=Count("id")).filter(n__gt=1).exists()

    # Each 503 was logged once, as JSON with its correlation ID; no worker was killed.
    lines = json_lines(output)
    warned = Counter(line["correlation_id"] for line in lines if line["level"] == "WARNING"
                     and line["logger"] == "common.problems")  # fmt: skip
    for call in [c for c in api.calls if c.status == 503]:
        assert warned[call.correlation_id] == 1, call
    assert [line for line in lines if line["logger"] == "django.request"] == []
    log_text = output.read_text()
    assert "WORKER TIMEOUT" not in log_text
    assert len({c.json()["pid"] for c in of("/health/alive")}) == 2  # the same two workers
