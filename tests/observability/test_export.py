"""The real exporter, end to end, in real processes: OTLP/HTTP protobuf to a local receiver,
bounded shutdown when the collector is gone, and one provider per gunicorn worker."""

import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from tests.observability.otlp import otlp_receiver
from tests.servers import ROOT, free_port, gunicorn, http_get, server_env

ONE_REQUEST = """
import time
import intelliflow.wsgi  # the entry point: instruments and builds the provider
from django.test import Client
response = Client().get("/api/v1/leads/", HTTP_X_REQUEST_ID="export-test")
print("status", response.status_code, flush=True)
print("done", flush=True)
"""


def telemetry_env(endpoint: str, **extra) -> dict:
    return server_env(
        DJANGO_ALLOWED_HOSTS="testserver,127.0.0.1",
        OTEL_ENABLED="true",
        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
        OTEL_EXPORTER_OTLP_TIMEOUT="10",
        **extra,
    )


def run_one_request(endpoint: str) -> tuple[str, float]:
    """Run ONE_REQUEST in a fresh process; return its output and how long it took to exit
    after the request was answered."""
    process = subprocess.Popen(
        [sys.executable, "-c", ONE_REQUEST],
        cwd=ROOT,
        env=telemetry_env(endpoint),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    output = ""
    for line in process.stdout:
        output += line
        if line.strip() == "done":
            break
    answered = time.monotonic()
    process.wait(timeout=30)
    return output, time.monotonic() - answered


def test_spans_reach_an_otlp_receiver_as_protobuf():
    with otlp_receiver() as (endpoint, received):
        output, _ = run_one_request(endpoint)
        assert "status 401" in output
        spans = received.spans()
    (resource, server) = next((r, s) for r, s in spans if s.kind == s.SPAN_KIND_SERVER)
    assert server.name == "GET api/v1/leads/"
    assert resource["service.name"] == "intelliflow-crm"
    attributes = {kv.key: kv.value for kv in server.attributes}
    assert attributes["intelliflow.correlation_id"].string_value == "export-test"
    assert attributes["http.response.status_code"].int_value == 401


def test_closed_collector_port_neither_fails_requests_nor_holds_shutdown():
    output, exit_seconds = run_one_request(f"http://127.0.0.1:{free_port()}")
    assert "status 401" in output
    assert exit_seconds < 2.0


def test_stalling_collector_does_not_hold_shutdown():
    with socket.socket() as stalling:
        stalling.bind(("127.0.0.1", 0))
        stalling.listen(16)  # accepts connections (in the backlog), never answers
        output, exit_seconds = run_one_request(f"http://127.0.0.1:{stalling.getsockname()[1]}")
    assert "status 401" in output
    assert exit_seconds < 2.0


def get(url: str) -> int:
    return http_get(url)[0]


def test_every_gunicorn_worker_exports_its_own_spans():
    port = free_port()
    with otlp_receiver() as (endpoint, received):
        env = telemetry_env(endpoint, OTEL_BSP_SCHEDULE_DELAY="100", HEALTH_DRAIN_SECONDS="0.5")
        with gunicorn(env, port, ready_path="/api/schema/") as server:
            url = f"http://127.0.0.1:{port}/api/v1/leads/"
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                with ThreadPoolExecutor(8) as pool:
                    assert set(pool.map(get, [url] * 32)) == {401}
                pids = {resource["process.pid"] for resource, _ in received.spans()}
                if len(pids) >= 2:
                    break
            os.kill(server.pid, signal.SIGTERM)  # to the master, as Kubernetes does
            stopping = time.monotonic()
            server.wait(timeout=15)
            assert time.monotonic() - stopping < 5
        resources = [resource for resource, _ in received.spans()]
    assert len({r["process.pid"] for r in resources}) == 2
    # A provider built before the fork would give both workers the same instance id.
    assert len({r["service.instance.id"] for r in resources}) == 2
