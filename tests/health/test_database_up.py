"""`intelliflow_database_up` is health's database probe, run by observability's sampler thread:
HealthConfig.ready() registers it, observability imports nothing of health."""

import pytest
from prometheus_client import REGISTRY

from health import checks
from health import metrics as health_metrics
from health.metrics import sample_database
from observability import metrics

pytestmark = pytest.mark.django_db


def database_up() -> float | None:
    return REGISTRY.get_sample_value("intelliflow_database_up")


def test_the_sampler_thread_runs_the_database_probe(monkeypatch):
    monkeypatch.setattr(metrics, "sample", lambda: None)  # the pool and process gauges
    health_metrics.DATABASE_UP.set(-1)
    metrics.sample_in_background()
    assert database_up() == 1


def test_a_database_that_does_not_answer_is_0(monkeypatch):
    def refused(self):
        raise checks.ServiceUnavailable("refused")

    monkeypatch.setattr(checks.DatabaseCheck, "run", refused)
    sample_database()
    assert database_up() == 0
