"""The observability app: registers its Django system checks."""

from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "observability"
    verbose_name = "Observability"

    def ready(self) -> None:
        from observability import checks  # noqa: F401 - registers the system checks
