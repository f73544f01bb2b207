"""Probes under gunicorn, as Kubernetes sees them: a database that is gone or hangs,
a worker draining after SIGTERM, and the exec probe's exit codes."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.servers import (
    ROOT,
    free_port,
    gunicorn,
    http_get,
    migrated_database_url,
    server_env,
)


def timed_get(url: str):
    started = time.monotonic()
    status, body, _ = http_get(url)
    return status, json.loads(body), time.monotonic() - started


@pytest.mark.parametrize("database", ["closed", "stalling"])
def test_unreachable_database_fails_ready_and_check_within_a_second(database, stalling_port):
    port = stalling_port if database == "stalling" else free_port()
    env = server_env(DATABASE_URL=f"postgres://postgres@127.0.0.1:{port}/intelliflow")
    app_port = free_port()
    with gunicorn(env, app_port):
        base = f"http://127.0.0.1:{app_port}/health"
        for probe in ("ready", "check", "ready"):  # twice: hung checks must not pile up
            status, body, seconds = timed_get(f"{base}/{probe}")
            assert status == 503
            assert body["status"] == "fail"
            assert seconds < 1.0, f"{probe} took {seconds:.2f} s"
            database_entry = body["checks"]["database:responseTime"][0]
            assert database_entry["status"] == "fail"
        for probe in ("ping", "alive"):
            status, body, _ = timed_get(f"{base}/{probe}")
            assert (status, body["status"]) == (200, "pass")


@pytest.mark.postgres
@pytest.mark.django_db
def test_worker_drains_after_sigterm_then_exits():
    env = server_env(HEALTH_DRAIN_SECONDS="2", DATABASE_URL=migrated_database_url())
    port = free_port()
    with gunicorn(env, port, workers=1) as server:
        base = f"http://127.0.0.1:{port}/health"
        assert http_get(f"{base}/ready")[0] == 200
        os.kill(server.pid, signal.SIGTERM)  # to the master, as Kubernetes does
        time.sleep(0.3)
        status, body, _ = timed_get(f"{base}/ready")
        assert status == 503
        assert body["checks"]["process:draining"][0]["observedValue"] is True
        assert http_get(f"{base}/ping")[0] == 200  # still serving while draining
        server.wait(timeout=10)
        assert server.returncode == 0


def manage(*args: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=server_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.postgres
@pytest.mark.django_db
def test_exec_probe_exit_codes():
    database_url = migrated_database_url()
    ok = manage("health_check", "ready", DATABASE_URL=database_url)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["status"] in {"pass", "warn"}
    gone = manage(
        "health_check", "ready", DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/x"
    )
    assert gone.returncode == 1
    assert json.loads(gone.stdout)["status"] == "fail"
    assert manage("health_check", "alive", DATABASE_URL=database_url).returncode == 0
