"""The project's routes plus views that fail on purpose, for the error-path tests."""

from django.db import OperationalError
from django.http import HttpRequest, JsonResponse
from django.urls import path
from opentelemetry import trace
from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from rest_framework.decorators import api_view

from intelliflow.urls import urlpatterns as project_urlpatterns


def boom(request: HttpRequest):
    request.body  # noqa: B018 - read the body, as a real view would, so Sentry can see it
    raise RuntimeError("duplicate key: Key (lower(email))=(ada.secret@example.com) already exists")


@api_view(["GET"])
def database_gone(request):
    raise OperationalError("connection failed: server closed the connection unexpectedly")


def instrumentation_state(request: HttpRequest):
    """What a query made by this view would see: is instrumentation on, is the span recorded."""
    return JsonResponse(
        {
            "instrumentation_enabled": is_instrumentation_enabled(),
            "recording": trace.get_current_span().is_recording(),
        }
    )


urlpatterns = [
    path("api/v1/instrumentation-state/", instrumentation_state),
    path("api/v1/boom/", boom),
    path("api/v1/database-gone/", database_gone, name="database-gone"),
    *project_urlpatterns,
]

handler500 = "common.problems.server_error"
