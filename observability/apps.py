"""The observability app: registers its Django system checks and counts the exceptions the API's
handler answers itself (common.problems.exception_answered)."""

from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "observability"
    verbose_name = "Observability"

    def ready(self) -> None:
        from common.problems import exception_answered
        from observability import metrics
        from observability.checks import system  # noqa: F401 - registers the system checks

        exception_answered.connect(metrics.count_handled_exception, dispatch_uid=__name__)
