"""The health app's part of the metrics: the database probe behind `intelliflow_database_up`,
run by each worker's metrics sampler thread (HealthConfig.ready() registers it)."""

from health.checks import DatabaseCheck
from health.reporting import FAIL, run_checks
from observability.metrics import DATABASE_UP


def sample_database() -> None:
    (outcome,) = run_checks([DatabaseCheck()])
    DATABASE_UP.set(0 if outcome.status == FAIL else 1)
