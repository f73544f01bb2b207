"""The health app. Observability knows nothing of it: at start-up the app hands its pieces to
observability's registries, its two `check_observability` areas (health/findings.py) and the
database probe behind `intelliflow_database_up` (health/metrics.py)."""

from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "health"
    verbose_name = "Health"

    def ready(self) -> None:
        from health import findings
        from health import metrics as health_metrics
        from observability import checks, metrics

        # Reported after observability's own areas, in this order, and before the stack.
        checks.register("health", findings.check_health)
        checks.register("database", findings.check_database)
        metrics.register_sampler(health_metrics.sample_database)
