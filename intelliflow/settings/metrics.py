"""Metrics (Prometheus): the METRICS_ENABLED switch, /metrics, the sampler and the latency
buckets; and the bundled stack's URLs that `check_observability --stack` probes."""

from intelliflow.settings.environment import env

# The one switch for request and query metrics: the middleware (middleware.py) and the
# database backend (database.py).
METRICS_ENABLED = env.bool("METRICS_ENABLED", default=True)

# --- Metrics (Prometheus) ----------------------------------------------------------------------
# /metrics answers Prometheus; with METRICS_TOKEN set it wants `Authorization: Bearer <token>`.
# Under gunicorn every worker writes to PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py sets it up).

METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_SAMPLE_SECONDS = env.float("METRICS_SAMPLE_SECONDS", default=5.0)
# The container's memory limit when no cgroup file says it (the memory alert divides by it).
MEMORY_LIMIT_BYTES = env.int("MEMORY_LIMIT_MB", default=0) * 1024 * 1024 or None
# Resolve the health targets (5-50 ms) and the 100 ms / 200 ms latency alert thresholds.
PROMETHEUS_LATENCY_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0,
    float("inf"),
)  # fmt: skip

# --- The bundled stack, for `manage.py check_observability --stack` -----------------------------

# Keyed by the docker-compose.yml service names, which the hints print.
OBSERVABILITY_STACK_URLS = {
    "otel-collector": env.str("OTEL_COLLECTOR_HEALTH_URL", default="http://localhost:13133/"),
    "prometheus": env.str("PROMETHEUS_URL", default="http://localhost:9090") + "/-/ready",
    "alertmanager": env.str("ALERTMANAGER_URL", default="http://localhost:9093") + "/-/ready",
    "loki": env.str("LOKI_URL", default="http://localhost:3100") + "/ready",
    "tempo": env.str("TEMPO_URL", default="http://localhost:3200") + "/ready",
    "grafana": env.str("GRAFANA_URL", default="http://localhost:3001") + "/api/health",
}
# Checked by default only when one of them is configured explicitly.
OBSERVABILITY_STACK_CONFIGURED = any(
    name in env for name in ("OTEL_COLLECTOR_HEALTH_URL", "PROMETHEUS_URL", "ALERTMANAGER_URL",
                             "LOKI_URL", "TEMPO_URL", "GRAFANA_URL")
)  # fmt: skip
