"""The observability app: registers its Django system checks, counts the exceptions the API's
handler answers itself (common.problems.exception_answered) and, when the settings list the
tracing middleware, configures it before any request, whatever started the process."""

from django.apps import AppConfig
from django.conf import settings


class ObservabilityConfig(AppConfig):
    name = "observability"
    verbose_name = "Observability"

    def ready(self) -> None:
        from common.problems import exception_answered
        from observability import metrics
        from observability.checks import system  # noqa: F401 - registers the system checks

        exception_answered.connect(metrics.count_handled_exception, dispatch_uid=__name__)
        if settings.OTEL_TRACE_REQUESTS:
            from observability import tracing

            # MIDDLEWARE lists the Django instrumentation's middleware, which has no tracer
            # until DjangoInstrumentor configures it: here, so that every process that loads
            # Django (wsgi, asgi, manage.py, a test runner, a script) can serve a request. It
            # starts no thread, so it is safe before gunicorn's fork; the entry points build
            # the provider (tracing.setup_for_process()).
            tracing.instrument()
