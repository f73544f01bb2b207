"""Telemetry backends down: requests do not slow down, memory does not grow, exit stays quick.

Three gunicorn servers run side by side in one test, one worker each, every trace sampled,
Sentry on, and a route that fails on purpose so Sentry has errors to send:

- healthy: OTLP to a local receiver, Sentry to a local ingest endpoint;
- down: both at closed ports (connection refused);
- stalling: both at ports that accept connections and never answer.

Latency rule (robust on a busy 2-core machine): the servers take turns in interleaved batches
of sequential requests, so background noise hits all three alike; for each server the batch
p95s are collected and their median compared. An outage server passes when that median is
at most 1.10 x the healthy one's plus SLACK_MS (a few ms of scheduling jitter on loopback).
"""

import json
import os
import random
import signal
import socket
import statistics
import time
from contextlib import ExitStack, contextmanager

import pytest

from tests.observability.otlp import otlp_receiver
from tests.reliability.conftest import json_lines
from tests.reliability.sentry_ingest import sentry_ingest
from tests.servers import free_port, gunicorn, http_request, migrated_database_url, server_env

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS, BATCH = 12, 20  # latency: interleaved batches per server
RATIO, SLACK_MS = 1.10, 3.0
QUEUE_SIZE = 256  # OTEL_BSP_MAX_QUEUE_SIZE: spans waiting for export, at most
MEMORY_REQUESTS = 1200  # about 4 spans each: many times the queue
MAX_GROWTH_BYTES = 6 * 1024 * 1024
DRAIN_SECONDS = 0.5
# Drain, then tracing's 1.5 s and Sentry's 1 s flush (gunicorn.conf.py worker_exit), Sentry's
# own exit hook (its shutdown_timeout, 2 s) and a second for process teardown.
MAX_EXIT_SECONDS = DRAIN_SECONDS + 1.5 + 1.0 + 2.0 + 1.0


@contextmanager
def stalling_port():
    """A port whose kernel accepts connections that nobody ever answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener.getsockname()[1]


def telemetry_env(database_url: str, otlp_endpoint: str, sentry_dsn: str) -> dict:
    return server_env(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="tests.reliability.settings_with_failing_route",
        OTEL_ENABLED="true",
        OTEL_TRACES_SAMPLER="always_on",
        OTEL_EXPORTER_OTLP_ENDPOINT=otlp_endpoint,
        OTEL_BSP_MAX_QUEUE_SIZE=str(QUEUE_SIZE),
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE="64",
        OTEL_BSP_SCHEDULE_DELAY="200",
        SENTRY_ENABLED="true",
        SENTRY_DSN=sentry_dsn,
        HEALTH_DRAIN_SECONDS=str(DRAIN_SECONDS),
        API_THROTTLE_USER_RATE="1000000/minute",
    )


class Server:
    def __init__(self, name: str, port: int, process, token: str, output):
        self.name, self.port, self.process, self.output = name, port, process, output
        self.headers = {"Authorization": f"Token {token}"}
        self.batch_p95s: list[float] = []

    def get(self, path: str) -> tuple[int, float, bytes]:
        started = time.perf_counter()
        status, body, _ = http_request(
            "GET", f"http://127.0.0.1:{self.port}{path}", headers=self.headers
        )
        return status, (time.perf_counter() - started) * 1000, body

    def lead_list(self) -> float:
        status, milliseconds, _ = self.get("/api/v1/leads/?page_size=5")
        assert status == 200, (self.name, status)
        return milliseconds

    def fail_on_purpose(self) -> None:
        assert self.get("/api/v1/boom/")[0] == 500

    def resident_memory(self) -> int:
        _, _, body = self.get("/health/alive")
        return json.loads(body)["checks"]["process:residentMemory"][0]["observedValue"]


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def test_telemetry_backends_down_cost_no_latency_memory_or_exit_time(
    server_token, lead_factory, tmp_path
):
    lead_factory.create_batch(5)
    database_url = migrated_database_url()
    with ExitStack() as stack:
        otlp, received = stack.enter_context(otlp_receiver())
        dsn, ingest = stack.enter_context(sentry_ingest())
        stalling_otlp = stack.enter_context(stalling_port())
        stalling_sentry = stack.enter_context(stalling_port())
        backends = {
            "healthy": (otlp, dsn),
            "down": (f"http://127.0.0.1:{free_port()}", f"http://k@127.0.0.1:{free_port()}/1"),
            "stalling": (
                f"http://127.0.0.1:{stalling_otlp}",
                f"http://k@127.0.0.1:{stalling_sentry}/1",
            ),
        }
        servers = {}
        for name, (endpoint, sentry_dsn) in backends.items():
            port, output = free_port(), tmp_path / f"{name}.log"
            env = telemetry_env(database_url, endpoint, sentry_dsn)
            process = stack.enter_context(gunicorn(env, port, workers=1, output=output))
            servers[name] = Server(name, port, process, server_token, output)

        # Warm up (imports, connections, caches), and give Sentry an error to send.
        for server in servers.values():
            for _ in range(50):
                server.lead_list()
            server.fail_on_purpose()

        # Latency, interleaved: each round, every server serves one batch, in random order.
        for _ in range(ROUNDS):
            for server in random.sample(list(servers.values()), k=len(servers)):
                server.batch_p95s.append(p95([server.lead_list() for _ in range(BATCH)]))
                server.fail_on_purpose()
        median_p95 = {name: statistics.median(s.batch_p95s) for name, s in servers.items()}
        for name in ("down", "stalling"):
            assert median_p95[name] <= RATIO * median_p95["healthy"] + SLACK_MS, median_p95

        # Memory: many times the span queue later, the worker is no bigger.
        for name in ("down", "stalling"):
            server = servers[name]
            before = server.resident_memory()
            for _ in range(MEMORY_REQUESTS):
                server.lead_list()
            growth = server.resident_memory() - before
            assert growth < MAX_GROWTH_BYTES, (name, growth)

        # The healthy backends did receive what the others could not: the test is live.
        assert {span.name for _, span in received.spans()} >= {"GET api/v1/leads/"}
        deadline = time.monotonic() + 5
        while not ingest.events() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert ingest.events(), "the healthy server sent no Sentry event"

        # Exit: SIGTERM (as Kubernetes sends it) ends each server within the bounds.
        for server in servers.values():
            os.kill(server.process.pid, signal.SIGTERM)
            stopping = time.monotonic()
            server.process.wait(timeout=30)
            exit_seconds = time.monotonic() - stopping
            assert exit_seconds < MAX_EXIT_SECONDS, (server.name, exit_seconds)

    # The span queue did overflow (so the memory check measured dropping, not luck), and the
    # SDK said so in the JSON log.
    for name in ("down", "stalling"):
        messages = [line["message"] for line in json_lines(servers[name].output)]
        assert any(message.startswith("Queue full, dropping") for message in messages), name
