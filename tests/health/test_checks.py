"""The checks on their own, pointed at what they must survive."""

import time

import pytest

from health import checks, draining
from health.reporting import FAIL, PASS, WARN, run_checks, run_one
from tests.servers import free_port

pytestmark = pytest.mark.django_db


def params(port: int) -> dict:
    return {"host": "127.0.0.1", "port": port, "dbname": "postgres", "user": "postgres"}


def test_database_check_passes_on_the_real_database():
    outcome = run_one(checks.DatabaseCheck())
    assert outcome.status == PASS
    assert outcome.observations["responseTime"].value >= 0


@pytest.mark.parametrize("check_class", [checks.DatabaseCheck, checks.MigrationsCheck])
def test_closed_port_fails_fast(check_class):
    started = time.monotonic()
    (outcome,) = run_checks([check_class(connection_params=params(free_port()))])
    assert outcome.status == FAIL
    assert "OperationalError" in outcome.output
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("check_class", [checks.DatabaseCheck, checks.MigrationsCheck])
def test_server_that_never_answers_times_out_within_budget(check_class, stalling_port):
    started = time.monotonic()
    (outcome,) = run_checks(
        [check_class(connection_params=params(stalling_port))], timeout_seconds=0.5
    )
    assert time.monotonic() - started < 0.8
    assert outcome.status == FAIL
    assert outcome.output == "timed out after 500 ms"


def test_migrations_check_counts_pending_migrations(monkeypatch):
    monkeypatch.setattr(
        checks.MigrationsCheck,
        "_disk_migrations",
        checks.MigrationsCheck.disk_migrations() | {("leads", "9999_future")},
    )
    monkeypatch.setattr(checks.MigrationsCheck, "_confirmed", set())
    outcome = run_one(checks.MigrationsCheck())
    assert outcome.status == FAIL
    assert outcome.observations["pendingMigrations"].value == 1
    assert "manage.py migrate" in outcome.output


def test_pool_check_warns_when_nearly_exhausted():
    outcome = run_one(checks.DatabasePoolCheck(warn_ratio=0.0))
    if outcome.observations["utilization"].value is None:
        pytest.skip("no pool on this database")
    assert outcome.status == WARN


def test_draining_check_fails_once_draining(monkeypatch):
    assert run_one(checks.DrainingCheck()).status == PASS
    monkeypatch.setattr(draining, "is_draining", lambda: True)
    assert run_one(checks.DrainingCheck()).status == FAIL


def test_crashing_check_fails_without_leaking_its_error():
    class CrashingCheck(checks.ObservingCheck):
        component = "crash"

        def run(self):
            raise RuntimeError("secret detail")

    outcome = run_one(CrashingCheck())
    assert (outcome.status, outcome.output) == (FAIL, "unexpected error (see logs)")
