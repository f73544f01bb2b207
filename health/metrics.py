"""The health app's metric: `intelliflow_database_up`, the database probe, run by each worker's
metrics sampler thread (HealthConfig.ready() registers it). Defined here, with its probe: a
project without the health app exports no such gauge, rather than a 0 that never changes and
sets off the DatabaseDown alert."""

from prometheus_client import Gauge

from health.checks import DatabaseCheck
from health.reporting import FAIL, run_checks

DATABASE_UP = Gauge(
    "intelliflow_database_up",
    "1 when the database answers SELECT 1 within the health budget, else 0 (any worker).",
    multiprocess_mode="livemin",
)


def sample_database() -> None:
    (outcome,) = run_checks([DatabaseCheck()])
    DATABASE_UP.set(0 if outcome.status == FAIL else 1)
